// Test fixtures of the pipeline core's unit tests: a v3.5.0 metadata message and the facts of its image row, each
// with overrides.
import type { Metadata } from '../../../simulator/protocol/index.ts';
import type { ImageFacts } from './facts.ts';

export const meta = (over: Partial<Metadata> = {}): Metadata => ({
  kind: 'metadata',
  device_id: 'B8F862F9C1C4',
  timestamp: '2026-01-14T10:00:00Z',
  image_name: 'image_3.jpg',
  image_size: 70959,
  max_chunk_size: 1024,
  total_chunk_count: 70,
  ...over,
});

export const row = (over: Partial<ImageFacts> = {}): ImageFacts => ({
  imageId: 'id-1',
  imageName: 'image_3.jpg',
  status: 'receiving',
  captureTimestamp: '2026-01-14T10:00:00Z',
  imageSize: 70959,
  totalChunks: 70,
  receivedChunks: 12,
  ...over,
});
