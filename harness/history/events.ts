// The run's history (ARCHITECTURE.md §1, §6): every device, broker, pipeline and nemesis event, in the order this
// process observed it, with a logical sequence number. The checker reads only this and the database.

interface EventBase {
  /** Logical sequence number, assigned by the History on append: a total order of what this process observed. */
  readonly seq: number;
  /** Wall-clock ms when observed (for reports; the checker orders by seq). */
  readonly atMs: number;
}

/** What the harness knows about a capture: enough to check the stored bytes (I2, I3) and phantoms (I8). */
export interface CaptureRecord {
  readonly mac: string;
  readonly imageName: string;
  readonly sha256: string;
  readonly sizeBytes: number;
  /** As the device put it in its metadata `timestamp`. */
  readonly captureTimestamp: string;
  /** Per device, increasing with every capture (survives reboots): tells two captures under one name apart. */
  readonly captureSeq: number;
}

export type HistoryEvent = EventBase &
  (
    | { readonly type: 'device_wake'; readonly mac: string; readonly wake: number }
    | { readonly type: 'device_sleep'; readonly mac: string; readonly untilMs: number }
    | { readonly type: 'device_captured'; readonly capture: CaptureRecord }
    /** The device published metadata for an image (a transfer starts, or a re-send). */
    | {
        readonly type: 'device_sent_metadata';
        readonly mac: string;
        readonly imageName: string;
        readonly sha256: string;
      }
    /**
     * The device published chunks of an image back to back (one firmware step: a transfer's burst, or the answer to
     * a missing_chunks request). For the report's timeline; the checker does not read it.
     */
    | {
        readonly type: 'device_sent_chunks';
        readonly mac: string;
        readonly imageName: string;
        readonly chunkIds: readonly number[];
      }
    /**
     * The device published a message the protocol refuses (the corrupt-message fault, harness/nemesis/
     * corrupt-message.ts): the pipeline must record it in rejected_messages with `expectedCode` (I9).
     */
    | {
        readonly type: 'device_sent_malformed';
        readonly mac: string;
        readonly topic: string;
        /** bad_base64 | truncated_json | mac_mismatch */
        readonly kind: string;
        readonly expectedCode: string;
      }
    /** The device received ACK_OK for an image and removed it from its SD queue. */
    | { readonly type: 'device_dequeued'; readonly mac: string; readonly imageName: string; readonly sha256: string }
    | { readonly type: 'device_gave_up'; readonly mac: string; readonly reason: string }
    /** A capture the device itself lost (power loss tearing the SD-queue write): may be absent, never partial. */
    | {
        readonly type: 'device_lost_capture';
        readonly mac: string;
        readonly imageName: string;
        readonly sha256: string;
      }
    /** The device's queue when the run ended (liveness, I5). */
    | { readonly type: 'device_final'; readonly mac: string; readonly queued: readonly string[] }
    /**
     * Observed by the harness (not the pipeline) the moment an ACK_OK reached a device: was the image already
     * complete in the database? (I7 ack after durability.)
     */
    | {
        readonly type: 'ack_observed';
        readonly mac: string;
        readonly imageName: string;
        readonly sha256: string;
        readonly storedComplete: boolean;
      }
    /** The pipeline committed an image as complete (its own report; I7 compares against the device side). */
    | {
        readonly type: 'pipeline_committed';
        readonly mac: string;
        readonly imageName: string;
        readonly imageId: string;
      }
    /** `found_complete`: the pipeline acknowledged an image it read as already complete (committed by another
     *  instance, or before a crash); only `own_commit` acks are ordered against the pipeline's own commit events. */
    | {
        readonly type: 'pipeline_acked';
        readonly mac: string;
        readonly imageName: string;
        /** own_commit: this instance's commit; found_complete: it read the row complete; recovered: an ACK a
         *  crashed instance committed and never sent (image_acks_owed), sent after the restart. */
        readonly basis?: 'own_commit' | 'found_complete' | 'recovered';
      }
    | {
        readonly type: 'pipeline_duplicate_logged';
        readonly mac: string;
        readonly imageName: string;
        /** The re-sent metadata's `timestamp`: after a counter reset two captures share a name, and this says
         *  which one was re-sent (absent in histories written before it was recorded). */
        readonly captureTimestamp?: string;
      }
    /** A new capture under a reused wire name, stored under `storedName` (ARCHITECTURE.md §3, name reuse). */
    | {
        readonly type: 'pipeline_name_reused';
        readonly mac: string;
        readonly imageName: string;
        readonly storedName: string;
      }
    | { readonly type: 'pipeline_rejected'; readonly topic: string; readonly code: string; readonly reason: string }
    | {
        readonly type: 'pipeline_missing_requested';
        readonly mac: string;
        readonly imageName: string;
        readonly chunkIds: readonly number[];
      }
    /** The embedded broker saw a client connect or go (devices, pipelines, probes). */
    | { readonly type: 'broker_client'; readonly clientId: string; readonly connected: boolean }
    /** The embedded broker's auth refused a login, a publish (the client is disconnected) or a subscribe. */
    | {
        readonly type: 'broker_refused';
        readonly action: 'connect' | 'publish' | 'subscribe';
        readonly clientId: string;
        readonly username?: string;
        readonly topic?: string;
        readonly reason: string;
      }
    /**
     * The webhook forwarder (harness/forwarder/, `--forward-webhook`) made one attempt to deliver a device message to
     * the user's handler. The checker's invariants ignore it; E1's webhook exercises read it.
     */
    | {
        readonly type: 'webhook_delivery';
        /** Numbers one copy of one message (a message the duplicate fault struck has two), in the order taken. */
        readonly delivery: number;
        readonly topic: string;
        /** 1 for the first attempt, then each retry. */
        readonly attempt: number;
        /** The HTTP status the forwarder saw (an injected 502 included), `timeout` or `error`. */
        readonly outcome: string;
        readonly ms: number;
        /** What the forwarder did next. */
        readonly next: 'delivered' | 'refused' | 'retry' | 'give_up';
        readonly error?: string;
      }
    | { readonly type: 'run_phase'; readonly phase: 'start' | 'heal' | 'quiet' | 'check' | 'end' }
    | { readonly type: 'nemesis'; readonly fault: string; readonly target?: string; readonly detail?: string }
    /** A fault the plan schedules by a trigger (nemesis/trigger.ts), recorded as the fleet starts. */
    | { readonly type: 'fault_planned'; readonly planId: number; readonly fault: string; readonly trigger: string }
    /** Its trigger was due: the fault's own `nemesis` event follows. `detail` is the progress it saw. */
    | {
        readonly type: 'fault_fired';
        readonly planId: number;
        readonly fault: string;
        readonly trigger: string;
        readonly detail: string;
      }
    /** The injection is over (the restarted pipeline serves again, the broker is back): until then it is in
     *  progress, and a message sent meanwhile may be lost to it. */
    | { readonly type: 'fault_done'; readonly planId: number; readonly fault: string }
    /** The safety phase ended before its trigger was due: the run did not exercise it (E1 unknown). */
    | {
        readonly type: 'fault_missed';
        readonly planId: number;
        readonly fault: string;
        readonly trigger: string;
        readonly detail: string;
      }
    /** A fault at a logical point (nemesis/fault-points.ts, in its text spelling), recorded as the fleet is built. */
    | { readonly type: 'point_planned'; readonly point: string }
    /** The point's moment came: the fault's own `nemesis` event follows. */
    | { readonly type: 'point_struck'; readonly point: string; readonly target: string }
    /** The safety phase ended (or the fleet never had the device) before the moment came: E1 unknown. */
    | { readonly type: 'point_missed'; readonly point: string; readonly detail: string }
  );

export type HistoryEventType = HistoryEvent['type'];

/** Distributive Omit over the union, so `append` keeps each variant's own fields. */
export type NewHistoryEvent = HistoryEvent extends infer E
  ? E extends HistoryEvent
    ? Omit<E, 'seq' | 'atMs'>
    : never
  : never;
