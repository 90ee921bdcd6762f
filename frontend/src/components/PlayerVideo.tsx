import type { RefObject } from 'react'
import { SeekBar } from './SeekBar'

interface PlayerVideoProps {
  video: RefObject<HTMLVideoElement | null>
  /** The file to play (the MP4); none when Shaka Player attaches a stream. */
  src?: string
  /** The job's still frame, shown until it plays. */
  poster?: string | null | undefined
  /** The storyboard's WebVTT: a seek bar with previews under the video. */
  storyboard?: string | null | undefined
}

/** A player's <video> (the stream's or the MP4's), and its storyboard seek bar once there is one. */
export function PlayerVideo({ video, src, poster, storyboard }: PlayerVideoProps) {
  return (
    <>
      <video
        ref={video}
        controls
        playsInline
        preload="auto"
        src={src}
        poster={poster ?? undefined}
        data-testid="player"
        className="aspect-video max-h-[70vh] w-full rounded-lg bg-black"
      >
        Your browser cannot play this video; use the download button.
      </video>
      {storyboard && <SeekBar video={video} storyboardUrl={storyboard} />}
    </>
  )
}
