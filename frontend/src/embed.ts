// embed.html: the app's player page for an <iframe> anywhere. It plays the HLS or DASH URL given
// in its #hash (``#url=<encoded URL>``; ``&autoplay=1`` starts muted), with automatic quality, and
// says in plain words why it cannot (an expired link, no network). It never sends an API key:
// the stream URL carries its own token.
import { parseEmbedHash, type PlaybackProblemKind } from './lib/playback'
import { StreamController, type StreamView } from './lib/streamController'

const video = document.getElementById('video') as HTMLVideoElement | null
const problemBox = document.getElementById('problem')
if (!video || !problemBox) throw new Error('embed.html is missing its elements')

function showProblem(message: string | null, next = '', kind = ''): void {
  if (!problemBox) return
  problemBox.hidden = message === null
  problemBox.dataset.kind = kind
  problemBox.replaceChildren()
  if (message === null) return
  const strong = document.createElement('strong')
  strong.textContent = message
  problemBox.append(strong, document.createTextNode(next))
}

let controller: StreamController | null = null

/** What a viewer of an embed can do (no "Try again" button here, no download). */
const EMBED_NEXT: Record<PlaybackProblemKind, string> = {
  expired: 'Reload the page that shows this video to get a fresh link.',
  refused: 'Reload the page that shows this video to get a fresh link.',
  missing: 'The video may have been deleted.',
  network: 'Check your connection, then reload.',
  unsupported: 'Try another browser.',
  decode: 'Reload to try again, or try another browser.',
  other: 'Reload to try again.',
}

function render(view: StreamView): void {
  if (!video) return
  video.dataset.status = view.status
  video.dataset.height = String(view.active?.height ?? '')
  video.dataset.errorCodes = view.errorCodes.join(',')
  showProblem(view.problem?.message ?? null, view.problem ? ` ${EMBED_NEXT[view.problem.kind]}` : '', view.problem?.kind ?? '')
}

async function start(): Promise<void> {
  if (!video) return
  const request = parseEmbedHash(window.location.hash)
  await controller?.destroy()
  controller = null
  if ('error' in request) {
    video.dataset.status = 'error'
    showProblem(request.error, ' Check the embed code.', 'other')
    return
  }
  showProblem(null)
  const autoplay = new URLSearchParams(window.location.hash.slice(1)).get('autoplay') === '1'
  if (autoplay) video.muted = true // browsers allow autoplay only without sound
  controller = new StreamController(video, render)
  await controller.load(request.url, request.format)
  if (autoplay && controller.view.status === 'ready') video.play().catch(() => undefined)
}

window.addEventListener('hashchange', () => void start())
void start()
