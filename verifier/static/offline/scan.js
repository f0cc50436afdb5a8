// Continuous scanning where the browser has BarcodeDetector: frames from the camera are read a
// few times a second, and each QR code is reported once until another code has been seen or a
// few seconds have passed (a certificate held in front of the camera is one check, not fifty).

export const SCAN_INTERVAL_MS = 250;
export const REPEAT_AFTER_MS = 5000;

/** Calls `onCode(text)` for each new QR code `detect()` finds; returns a stop function. */
export function scanLoop({ detect, onCode, clock = () => Date.now(), wait = (ms) => new Promise((r) => setTimeout(r, ms)) }) {
  let running = true;
  let last = null;
  let lastAt = 0;
  (async () => {
    while (running) {
      let codes = [];
      try {
        codes = await detect();
      } catch {
        codes = []; // a frame the detector could not read
      }
      for (const code of codes) {
        const now = clock();
        if (code === last && now - lastAt < REPEAT_AFTER_MS) continue;
        last = code;
        lastAt = now;
        if (running) await onCode(code);
      }
      await wait(SCAN_INTERVAL_MS);
    }
  })();
  return () => { running = false; };
}
