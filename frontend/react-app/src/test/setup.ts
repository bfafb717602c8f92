// jsdom lacks what Mantine asks the browser for.
window.matchMedia = window.matchMedia || ((query: string) => ({
  matches: false, media: query, onchange: null,
  addListener: () => {}, removeListener: () => {},
  addEventListener: () => {}, removeEventListener: () => {}, dispatchEvent: () => false,
})) as unknown as typeof window.matchMedia;
class RO { observe() {} unobserve() {} disconnect() {} }
(window as unknown as { ResizeObserver: typeof RO }).ResizeObserver = RO;
Element.prototype.scrollIntoView = Element.prototype.scrollIntoView || (() => {});
import { cleanup } from "@testing-library/react";
afterEach(() => cleanup());
// jsdom has no object URLs (thumbnails, previews)
let blobs = 0;
URL.createObjectURL = URL.createObjectURL || (() => `blob:test/${++blobs}`);
URL.revokeObjectURL = URL.revokeObjectURL || (() => {});
