// The name each device gave each of its captures, as the history tells them (`device_captured`): how the fault
// points that name "image N of device D" (crash-points.ts, puback-points.ts) find capture N (captureSeq N-1) by the
// name the pipeline and the broker see. After a counter reset two captures may share a name: the first publish or
// commit under it matches.
import type { History } from '../history/history.ts';

export interface CaptureNames {
  /** The name of `mac`'s capture `captureSeq`, once the device has captured it. */
  nameOf(mac: string, captureSeq: number): string | undefined;
}

export function followCaptureNames(history: History): CaptureNames {
  const byDevice = new Map<string, Map<number, string>>();
  history.subscribe((event) => {
    if (event.type !== 'device_captured') return;
    const { mac, captureSeq, imageName } = event.capture;
    let own = byDevice.get(mac);
    if (own === undefined) byDevice.set(mac, (own = new Map<number, string>()));
    own.set(captureSeq, imageName);
  });
  return { nameOf: (mac, captureSeq) => byDevice.get(mac)?.get(captureSeq) };
}
