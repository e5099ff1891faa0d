// Image names (PROTOCOL.md §1: `image_<N>.jpg`). They become storage paths and SQL values downstream, so only a
// safe file-name shape is accepted: letters, digits, `.`, `_`, `-`; 1–128 characters; not starting with `.`;
// no `..` anywhere. That excludes `/`, `\`, NUL and path traversal.

const SAFE_IMAGE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

export function isSafeImageName(name: unknown): name is string {
  return typeof name === 'string' && SAFE_IMAGE_NAME.test(name) && !name.includes('..');
}
