import assert from "node:assert/strict";
import { test } from "node:test";
import { parsePolicy } from "../policy/policy-file";
import { signedHeaders } from "./signing";

test("signs as the Standard Webhooks specification's published test vector does, with its whsec_ secret read as the policy reads it", () => {
  const policy = parsePolicy(`resources: {}\nnotify:\n  webhooks:\n    - { url: "https://x.example", secret: { env: S }, events: [request.opened] }\n`, { S: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" });
  const headers = signedHeaders(policy.notify.webhooks[0].key, "msg_p5jXN8AQM9LWM0D4loKWxJek", '{"test": 2432232314}', 1614265330_000);
  assert.deepEqual(headers, {
    "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "webhook-timestamp": "1614265330",
    "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
  });
});
