import { describe, expect, it } from 'vitest'
import { ApiError } from './api'
import { describeError, describeFailure, describeUploadError, isPlainSentence, problemText } from './errors'

const S3_XML = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>'

describe('isPlainSentence', () => {
  it('accepts sentences and refuses markup, JSON, stacks and error codes', () => {
    expect(isPlainSentence('you already have 20 jobs in progress (limit 20); wait for one to finish or cancel one')).toBe(true)
    expect(isPlainSentence(S3_XML)).toBe(false)
    expect(isPlainSentence('{"error": "x"}')).toBe(false)
    expect(isPlainSentence('TypeError: Failed to fetch')).toBe(false)
    expect(isPlainSentence('NoSuchUpload')).toBe(false)
    expect(isPlainSentence('Internal Server Error')).toBe(false)
    expect(isPlainSentence('')).toBe(false)
    expect(isPlainSentence('x'.repeat(400))).toBe(false)
  })
})

describe('describeError', () => {
  it('gives every HTTP status a plain message and a next step', () => {
    const cases: Array<[ApiError, RegExp, RegExp]> = [
      [new ApiError(401, 'Unauthorized'), /refused your API key/, /Open Settings/],
      [new ApiError(403, 'Forbidden'), /refused your API key/, /Open Settings/],
      [new ApiError(404, 'job not found'), /no longer exists/, /Refresh/],
      [new ApiError(409, 'job is done; uploads are only accepted while awaiting_upload'), /^Job is done; uploads/, /Refresh/],
      [new ApiError(409, '<Error/>'), /^The job changed meanwhile\.$/, /Refresh/],
      [new ApiError(413, 'Request Entity Too Large'), /too large/, /smaller/],
      [new ApiError(429, 'you already have 20 jobs in progress (limit 20)'), /^You already have 20 jobs in progress \(limit 20\)\.$/, /Wait for one/],
      [new ApiError(429, 'you already have 20 jobs in progress (limit 20); wait for one to finish or cancel one'), /wait for one to finish or cancel one\.$/, /^Then try again\.$/],
      [new ApiError(429, 'HTTP 429'), /too many jobs/, /Wait/],
      [new ApiError(400, "'.txt' is not a video file type we accept"), /is not a video file type/, /Check the file/],
      [new ApiError(502, '<html>Bad Gateway</html>'), /server had a problem and could not delete the job \(error 502\)/, /in a minute/],
      [new ApiError(503, 'Service Unavailable'), /error 503/, /in a minute/],
    ]
    for (const [err, message, next] of cases) {
      const problem = describeError(err, 'delete the job')
      expect(problem.message, String(err.status)).toMatch(message)
      expect(problem.next, String(err.status)).toMatch(next)
      expect(problemText(problem)).not.toMatch(/[<{]/)
    }
  })

  it('tells a network failure from anything else', () => {
    expect(describeError(new TypeError('Failed to fetch')).message).toBe('Could not reach the framefleet server.')
    expect(describeError(new Error('net::ERR_INTERNET_DISCONNECTED')).next).toMatch(/connection/)
    expect(describeError(new Error('boom'), 'load your jobs').message).toBe('Something went wrong and the app could not load your jobs.')
  })
})

describe('describeUploadError', () => {
  it('never shows S3 XML or Uppy internals', () => {
    expect(describeUploadError(S3_XML).message).toBe('The upload link expired before the file was sent.')
    expect(describeUploadError('Non 2xx').message).toBe('The storage refused part of the upload.')
    expect(describeUploadError('Failed to fetch').message).toBe('The connection dropped during the upload.')
    expect(describeUploadError('Unknown error').next).toMatch(/Retry/)
    expect(describeUploadError('job is cancelled; uploads are only accepted while awaiting_upload').next).toMatch(/upload the file again/)
    expect(describeUploadError(null).message).toBe('The upload stopped.')
  })

  it('keeps a plain reason (a limit) as it is', () => {
    expect(describeUploadError('video is 21000 s long, over your 14400 s limit').message).toBe('Video is 21000 s long, over your 14400 s limit.')
  })
})

describe('describeFailure', () => {
  it('keeps the API reason and suggests what to try', () => {
    const limit = describeFailure('video is 21000 s long, over your 14400 s limit')
    expect(limit.next).toMatch(/Trim or shrink/)
    const audio = describeFailure('the file has no video stream (audio only)')
    expect(audio.message).toBe('The file has no video stream (audio only).')
    expect(audio.next).toMatch(/plays on your computer/)
    expect(describeFailure('Traceback (most recent call last): …').message).toBe('The video could not be converted.')
    expect(describeFailure(null).next).toMatch(/Try uploading it again/)
  })
})
