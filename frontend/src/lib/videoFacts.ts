// Duration and size of a video as the browser reads them from its header, declared in POST /jobs
// so that the API can refuse a file over the owner's limits before a byte is uploaded.

export interface VideoFacts {
  duration?: number
  width?: number
  height?: number
}

/** Only plausible numbers (a browser reports Infinity for streams, 0 for audio-only files). */
export function declaredFacts(duration: number, width: number, height: number): VideoFacts {
  const facts: VideoFacts = {}
  if (Number.isFinite(duration) && duration > 0) facts.duration = Math.round(duration * 1000) / 1000
  if (Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0) {
    facts.width = width
    facts.height = height
  }
  return facts
}

/** What a <video> element learns from the file's header; {} when it cannot tell in time. */
export function readVideoFacts(file: Blob, timeoutMs = 3000): Promise<VideoFacts> {
  if (typeof document === 'undefined') return Promise.resolve({})
  return new Promise((resolve) => {
    const video = document.createElement('video')
    const url = URL.createObjectURL(file)
    const finish = (facts: VideoFacts): void => {
      clearTimeout(timer)
      video.removeAttribute('src')
      video.load()
      URL.revokeObjectURL(url)
      resolve(facts)
    }
    const timer = setTimeout(() => finish({}), timeoutMs)
    video.preload = 'metadata'
    video.muted = true
    video.onloadedmetadata = () => finish(declaredFacts(video.duration, video.videoWidth, video.videoHeight))
    video.onerror = () => finish({}) // a container or codec this browser does not play: the API probes it
    video.src = url
  })
}
