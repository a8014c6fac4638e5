// The webhook signature of docs/api/portal.md ("Webhook signature"), from that guide alone.
import { createHmac, timingSafeEqual } from "node:crypto";

// The key is the secret's text as UTF-8 (64 hex characters), not the bytes the hex spells.
export function signature(secret, timestamp, rawBody) {
  const mac = createHmac("sha256", Buffer.from(secret, "utf8"));
  mac.update(Buffer.from(`${timestamp}.`, "utf8"));
  mac.update(rawBody);
  return `sha256=${mac.digest("hex")}`;
}

// What a receiver does with a request: the raw body bytes as received, never re-serialized JSON.
export function verifyWebhook({ secret, headers, rawBody, nowS, toleranceS = 300 }) {
  const timestamp = headers["x-lmp-timestamp"] ?? "";
  const given = Buffer.from(headers["x-lmp-signature"] ?? "", "utf8");
  if (!/^[0-9]+$/.test(timestamp)) return false;
  if (Math.abs(nowS - Number(timestamp)) > toleranceS) return false;
  const expected = Buffer.from(signature(secret, timestamp, rawBody), "utf8");
  return given.length === expected.length && timingSafeEqual(given, expected);
}
