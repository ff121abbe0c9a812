// Which images the image garbage collector removes (upstream realImageGCManager):
// images unused for longer than imageMaximumGCAge always; and, when the image
// filesystem is at or above imageGCHighThresholdPercent, unused images oldest-used
// first until usage falls to imageGCLowThresholdPercent. Images in use by any container,
// pinned images and the sandbox image stay, and so does an image first seen less than
// imageMinimumGCAge ago. Pure: the caller tracks when each image was first seen and last used.

export interface ImageRecord {
  id: string;
  sizeBytes: number;
  /** When the kubelet first saw the image (ms). */
  firstDetected: number;
  /** When a container last used it (ms); firstDetected if never. */
  lastUsed: number;
  inUse: boolean;
  pinned: boolean;
}

export interface ImageGcPolicy {
  highThresholdPercent: number;
  lowThresholdPercent: number;
  minAgeMs: number;
  /** 0: no maximum age. */
  maxAgeMs: number;
}

export interface ImageFs {
  capacityBytes: number;
  availableBytes: number;
}

export interface ImageGcPlan {
  remove: string[];
  /** Bytes usage must drop by to reach the low threshold (0 when below the high one). */
  wanted: number;
  /** What the removals free. */
  freed: number;
}

export function planImageGc(images: readonly ImageRecord[], fs: ImageFs, policy: ImageGcPolicy, now: number): ImageGcPlan {
  const removable = images.filter((i) => !i.inUse && !i.pinned);
  const remove = new Set<string>();
  let freed = 0;
  if (policy.maxAgeMs > 0) {
    for (const i of removable) {
      if (now - i.lastUsed > policy.maxAgeMs) {
        remove.add(i.id);
        freed += i.sizeBytes;
      }
    }
  }
  const usagePercent = fs.capacityBytes > 0 ? 100 - Math.floor((fs.availableBytes * 100) / fs.capacityBytes) : 0;
  let wanted = 0;
  if (usagePercent >= policy.highThresholdPercent) {
    wanted = Math.max(0, Math.floor((fs.capacityBytes * (100 - policy.lowThresholdPercent)) / 100) - fs.availableBytes);
    const candidates = removable.filter((i) => !remove.has(i.id) && now - i.firstDetected >= policy.minAgeMs).sort((a, b) => a.lastUsed - b.lastUsed);
    for (const i of candidates) {
      if (freed >= wanted) break;
      remove.add(i.id);
      freed += i.sizeBytes;
    }
  }
  return { remove: [...remove], wanted, freed };
}
