// What the pipeline's main thread and its consumer thread (consumer-worker.ts) say to each other
// (consumer-thread.ts has the model).

/** workerData of the consumer thread. */
export interface ConsumerData {
  readonly url: string;
  /** A CA (PEM) to trust for an mqtts:// broker. */
  readonly ca: string | undefined;
  /** One MQTT connection each, all subscribed to `subscriptions` (a shared group's filters when more than one). */
  readonly clientIds: readonly string[];
  readonly subscriptions: readonly string[];
  /** Messages handed to the main thread and not yet taken by it, at most: past it, PUBACKs wait (backpressure). */
  readonly queueMax: number;
}

export type ToConsumer =
  /** The main thread took this many more messages. */
  | { readonly kind: 'credit'; readonly messages: number }
  | { readonly kind: 'publish'; readonly id: number; readonly topic: string; readonly payload: string }
  | { readonly kind: 'unsubscribe'; readonly id: number }
  /** Graceful: DISCONNECT after in-flight publishes. */
  | { readonly kind: 'end'; readonly id: number }
  /** A crash: sockets cut, nothing sent. */
  | { readonly kind: 'destroy'; readonly id: number };

export type FromConsumer =
  | { readonly kind: 'ready' }
  /** Connecting or subscribing failed; the thread then exits. */
  | { readonly kind: 'failed'; readonly message: string }
  /** Messages in the order the thread received them, over all its connections. */
  | { readonly kind: 'messages'; readonly topics: readonly string[]; readonly payloads: readonly Uint8Array[] }
  | { readonly kind: 'log'; readonly line: string }
  /** The request `id` finished (`error` when it failed). */
  | { readonly kind: 'done'; readonly id: number; readonly error?: string };
