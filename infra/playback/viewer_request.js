import crypto from 'crypto';
import cf from 'cloudfront';

// /{expires}.{sig}/{job_id}/{rest} -> outputs/{job_id}/stream/{rest} (README "Streaming delivery
// on AWS"), the verdicts of chalicelib/model/playback.py resolve(): tests/infra/test_playback.py.
const kvs = cf.kvs();
const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;
const REST = /^(?:[A-Za-z0-9_-]{1,32}\/)?[A-Za-z0-9_.-]{1,64}$/;
const CORS = {
  'access-control-allow-origin': {value: '*'},
  'access-control-allow-methods': {value: 'GET, HEAD, OPTIONS'},
  'access-control-allow-headers': {value: 'Range'},
  'access-control-max-age': {value: '86400'},
  'cache-control': {value: 'no-store'},
};
const PREFLIGHT = {statusCode: 204, statusDescription: 'No Content', headers: CORS};
const REFUSED = {
  statusCode: 403,
  statusDescription: 'Forbidden',
  headers: Object.assign({'content-type': {value: 'text/plain'}}, CORS),
  body: {encoding: 'text', data: 'This playback link is invalid or has expired.\n'},
};

function same(a, b) {  // constant time, as hmac.compare_digest
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length && i < b.length; i++) {
    diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  }
  return diff === 0;
}

// The URI of the bucket key that `uri` may read at `now` (epoch seconds), or null.
function resolve(secret, uri, now) {
  const path = uri.replace(/^\/+/, '');
  const first = path.indexOf('/');
  const second = path.indexOf('/', first + 1);
  if (first < 0 || second < 0 || !secret) {
    return null;
  }
  const token = path.slice(0, first);
  const jobId = path.slice(first + 1, second);
  const rest = path.slice(second + 1);
  const dot = token.indexOf('.');
  const digits = dot < 0 ? token : token.slice(0, dot);
  const signature = dot < 0 ? '' : token.slice(dot + 1);
  if (!/^[0-9]+$/.test(digits) || !JOB_ID.test(jobId) || !REST.test(rest) || rest.includes('..')) {
    return null;
  }
  const expires = digits.replace(/^0+(?=[0-9])/, '');  // Python signs int(expires)
  if (Number(expires) <= now) {
    return null;
  }
  const mac = crypto.createHmac('sha256', secret).update(jobId + '/' + expires).digest('base64url');
  return same(signature, mac) ? '/outputs/' + jobId + '/stream/' + rest : null;
}

async function handler(event) {
  const request = event.request;
  if (request.method === 'OPTIONS') {
    return PREFLIGHT;  // carries no data: needs no token
  }
  let secret = '';
  try {
    secret = await kvs.get('playback-secret');
  } catch (err) {
    secret = '';  // not copied yet (deploy.sh does, after the stack): refuse everything
  }
  const uri = resolve(secret, request.uri, Date.now() / 1000);
  if (uri === null) {
    return REFUSED;
  }
  request.uri = uri;
  request.querystring = {};
  return request;
}
