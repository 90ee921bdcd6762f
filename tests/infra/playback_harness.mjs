// Runs a CloudFront viewer-request function (infra/playback/viewer_request.js) under Node the way
// CloudFront Functions would, for tests/infra/test_playback.py:
//
//   node playback_harness.mjs FUNCTION.js < cases.json > results.json
//
// cases.json: [{"store": {key: value}, "now": epoch seconds, "method", "uri", "querystring"}].
// Each case gets a fresh copy of the module (module state never leaks from one case to the
// next), `Date.now()` frozen at `now` (as CloudFront freezes it for a run), a key value store
// holding `store` (get() rejects a missing key, as CloudFront's does), and a `crypto` that offers
// only what the cloudfront-js-2.0 runtime documents: createHash/createHmac with md5, sha1 or
// sha256, update(data), digest() with hex, base64 or base64url (or none: a Buffer). Anything else
// the function touches fails here.
import nodeCrypto from 'node:crypto';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ALGORITHMS = ['md5', 'sha1', 'sha256'];
const ENCODINGS = [undefined, 'hex', 'base64', 'base64url'];
const IMPORTS = [
  ["import crypto from 'crypto';", 'const crypto = globalThis.__cfCrypto;'],
  ["import cf from 'cloudfront';", 'const cf = globalThis.__cfModule;'],
];

function restricted(make, algorithm, key) {
  if (!ALGORITHMS.includes(algorithm)) {
    throw new Error(`CloudFront Functions' crypto has no algorithm ${algorithm}`);
  }
  const inner = key === undefined ? make(algorithm) : make(algorithm, key);
  const wrapper = {
    update(data) {
      inner.update(data);
      return wrapper;
    },
    digest(encoding) {
      if (!ENCODINGS.includes(encoding)) {
        throw new Error(`CloudFront Functions' crypto has no digest encoding ${encoding}`);
      }
      return inner.digest(encoding);
    },
  };
  return wrapper;
}

globalThis.__cfCrypto = Object.freeze({
  createHash: (algorithm) => restricted(nodeCrypto.createHash, algorithm),
  createHmac: (algorithm, key) => restricted(nodeCrypto.createHmac, algorithm, key),
});

let store = {};
globalThis.__cfModule = Object.freeze({
  kvs: () => Object.freeze({
    async get(key, options) {
      if (options !== undefined && options.format !== 'string') {
        throw new Error('only string values are used');
      }
      if (!Object.prototype.hasOwnProperty.call(store, key)) {
        throw new Error(`KeyValueStore: key ${key} not found`);
      }
      return store[key];
    },
  }),
});

let source = readFileSync(process.argv[2], 'utf8');
for (const [line, replacement] of IMPORTS) {
  if (!source.includes(line + '\n')) {
    throw new Error(`the function must start with: ${line}`);
  }
  source = source.replace(line + '\n', replacement + '\n');
}
source += '\nexport { handler };\n';

const cases = JSON.parse(readFileSync(0, 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'cf-function-'));
const realNow = Date.now;
const results = [];
try {
  for (let n = 0; n < cases.length; n++) {
    const item = cases[n];
    const file = join(dir, `function-${n}.mjs`);
    writeFileSync(file, source);
    store = item.store;
    Date.now = () => item.now * 1000;
    const { handler } = await import(pathToFileURL(file).href);
    const event = {
      version: '1.0',
      context: { distributionDomainName: 'd111111abcdef8.cloudfront.net', eventType: 'viewer-request' },
      viewer: { ip: '198.51.100.10' },
      request: {
        method: item.method, uri: item.uri, querystring: item.querystring,
        headers: { host: { value: 'd111111abcdef8.cloudfront.net' } }, cookies: {},
      },
    };
    results.push(await handler(event));
  }
} finally {
  Date.now = realNow;
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(results));
