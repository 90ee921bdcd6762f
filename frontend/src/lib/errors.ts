// Every failure the user sees, in plain words with what to do next: never a raw API body, an S3
// XML error or a stack trace.
import { ApiError } from './api'

export interface Problem {
  /** What went wrong, one sentence. */
  message: string
  /** What the user can do about it. */
  next: string
}

/** The sentence as the user reads it: "<message> <next>". */
export function problemText(problem: Problem): string {
  return `${problem.message} ${problem.next}`
}

/** A sentence fit to show as it is: short, no markup, no JSON, no stack or S3 error code. */
export function isPlainSentence(text: string | null | undefined): text is string {
  if (!text) return false
  const t = text.trim()
  if (t.length < 3 || t.length > 300) return false
  if (/[<>{}[\]]/.test(t)) return false // XML, HTML, JSON
  if (/\bat\s+\S+\s*\(|Traceback|Exception:|^\w*Error:/.test(t)) return false // stack traces, "TypeError: …"
  if (/\b(AccessDenied|NoSuchKey|NoSuchUpload|SignatureDoesNotMatch|RequestTimeTooSkewed|ExpiredToken|InvalidPart|EntityTooSmall)\b/.test(t)) return false
  if (/^HTTP \d{3}$/.test(t)) return false // no message from the API, just its status
  if (/^(Unauthorized|Forbidden|Not Found|Internal Server Error|Bad Gateway|Service Unavailable|Gateway Timeout)$/i.test(t)) return false
  return true
}

const sentence = (text: string): string => {
  const t = text.trim()
  const capital = t.charAt(0).toUpperCase() + t.slice(1)
  return /[.!?]$/.test(capital) ? capital : `${capital}.`
}

/** The API's own sentence when it is plain, else ``fallback``. */
function apiSentence(err: ApiError, fallback: string): string {
  return isPlainSentence(err.message) ? sentence(err.message) : fallback
}

/** Whether the failure is the network (fetch's TypeError, an offline browser, a timeout). */
export function isNetworkError(err: unknown): boolean {
  if (err instanceof ApiError) return false
  if (err instanceof TypeError) return true
  const text = err instanceof Error ? err.message : String(err)
  return /failed to fetch|networkerror|network error|load failed|err_internet_disconnected|timed? ?out/i.test(text)
}

/** An API call that failed (``doing``: what the app was doing, e.g. "delete the job"). */
export function describeError(err: unknown, doing = 'do that'): Problem {
  if (err instanceof ApiError) {
    switch (err.status) {
      case 401:
      case 403:
        return { message: 'The server refused your API key.', next: 'Open Settings and paste a valid API key.' }
      case 404:
        return { message: 'This job no longer exists, or it belongs to another API key.', next: 'Refresh the list to see your current jobs.' }
      case 409:
        return { message: apiSentence(err, 'The job changed meanwhile.'), next: 'Refresh to see where it is now.' }
      case 413:
        return { message: 'The file is too large for the server.', next: 'Pick a smaller or shorter file.' }
      case 429: {
        const message = apiSentence(err, 'You have too many jobs in progress.')
        return { message, next: /\b(wait|cancel)\b/i.test(message) ? 'Then try again.' : 'Wait for one to finish, or cancel one, then try again.' }
      }
      case 400:
      case 422:
        return { message: apiSentence(err, `The server could not ${doing} with what was sent.`), next: 'Check the file and the options, then try again.' }
      default:
        if (err.status >= 500) {
          return { message: `The server had a problem and could not ${doing} (error ${err.status}).`, next: 'Try again in a minute.' }
        }
        return { message: `The server could not ${doing} (error ${err.status}).`, next: 'Try again; if it keeps failing, reload the page.' }
    }
  }
  if (isNetworkError(err)) {
    return { message: 'Could not reach the framefleet server.', next: 'Check your connection; the app retries by itself once you are back online.' }
  }
  return { message: `Something went wrong and the app could not ${doing}.`, next: 'Try again, or reload the page.' }
}

/**
 * An upload that stopped: Uppy reports S3's answers (XML), HTTP statuses or our API's errors.
 * The job's own reason (e.g. a limit) is kept when it is a plain sentence.
 */
export function describeUploadError(raw: string | null | undefined): Problem {
  const text = raw ?? ''
  const retry = 'Press Retry; finished parts are not sent again.'
  if (/expired|RequestTimeTooSkewed|Request has expired/i.test(text)) {
    return { message: 'The upload link expired before the file was sent.', next: retry }
  }
  if (/AccessDenied|SignatureDoesNotMatch|Forbidden|\b403\b|Non 2xx/i.test(text)) {
    return { message: 'The storage refused part of the upload.', next: retry }
  }
  if (/NoSuchUpload|awaiting_upload|only accepted while/i.test(text)) {
    return { message: 'This job no longer accepts its upload (it was cancelled or its upload window closed).', next: 'Delete it and upload the file again.' }
  }
  if (/\b401\b|API key/i.test(text)) {
    return { message: 'The server refused your API key.', next: 'Open Settings and paste a valid API key, then press Retry.' }
  }
  if (/\b429\b|too many/i.test(text) && isPlainSentence(text)) {
    return { message: sentence(text), next: 'Wait for a job to finish, or cancel one, then press Retry.' }
  }
  if (/failed to fetch|network|offline|ERR_|timed? ?out|Unknown error/i.test(text)) {
    return { message: 'The connection dropped during the upload.', next: retry }
  }
  if (/\b5\d\d\b|Internal|Service Unavailable|SlowDown/i.test(text)) {
    return { message: 'The storage had a problem with the upload.', next: retry }
  }
  if (isPlainSentence(text)) return { message: sentence(text), next: 'Fix that, then pick the file again.' }
  return { message: 'The upload stopped.', next: retry }
}

/** Why a job failed (the API's reason is a plain sentence) and what to try. */
export function describeFailure(reason: string | null | undefined): Problem {
  const message = isPlainSentence(reason) ? sentence(reason) : 'The video could not be converted.'
  if (/limit|too (long|large|big)|over your/i.test(message)) {
    return { message, next: 'Trim or shrink the video, or ask for a higher limit, then upload it again.' }
  }
  if (/no video|audio only|not a video|invalid data|could not (read|open|probe)|unsupported|unknown format/i.test(message)) {
    return { message, next: 'Check that the file plays on your computer, or export it as MP4 (H.264), then upload it again.' }
  }
  return { message, next: 'Try uploading it again; if it fails the same way, check that the file plays on your computer.' }
}
