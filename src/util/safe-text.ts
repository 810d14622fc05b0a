/**
 * Text from outside (Cloudflare's answers, a rule's output) on its way to a terminal or a log:
 * control characters (ESC, CSI, OSC, C1, CR, BEL) are shown as \xNN, not obeyed, so an answer
 * cannot retitle the window, clear the screen, overwrite a line or plant a link.
 */
export const safeText = (s: string | null | undefined) =>
  (s ?? '').replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
