// HELLO → what to tell the device (PROTOCOL.md §3, §5). A device that reports queued images is told to stream them
// (send_all_pending) and NOT to capture another: a healing wake drains the queue without growing it.
import type { Hello, ServerMessage } from '../../../simulator/protocol/index.ts';

const SEND_ALL_PENDING: ServerMessage = { kind: 'send_all_pending' };
const CAPTURE_IMAGE: ServerMessage = { kind: 'capture_image' };

export function decideHello(hello: Hello): ServerMessage {
  return hello.pendingImg > 0 || hello.pending_list.length > 0 ? SEND_ALL_PENDING : CAPTURE_IMAGE;
}
