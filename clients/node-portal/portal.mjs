// A city portal's calls to LMP in Node.js: the .proto files loaded at run time, tokens from the
// environment, the receipt proof and the webhook signature checked here from docs/api/portal.md.
//
// Environment: LMP_PROTO_DIR (proto/), LMP_PORTAL_GUIDE (docs/api/portal.md), LMP_REGISTRY_TARGET,
// LMP_VOTING_TARGET, LMP_CITY, and bearer tokens LMP_TOKEN_OFFICE (programme_office, every city),
// LMP_TOKEN_GROUP (working_group of LMP_CITY), LMP_TOKEN_PORTAL (portal of LMP_CITY),
// LMP_TOKEN_OTHER_CITY (working_group of another city); with LMP_NOTIFICATIONS_TARGET also a live
// webhook (the notifications service must be allowed to post to 127.0.0.1). Exits 0 when every
// check held.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

import { workedExample } from "./guide.mjs";
import { inclusionPath, leafHash, nodeHash, treeHash, verifyInclusion } from "./merkle.mjs";
import { signature, verifyWebhook } from "./webhook.mjs";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name}`);
  return value;
};

const CITY = env("LMP_CITY");
const GUIDE = env("LMP_PORTAL_GUIDE");
const TOKENS = {
  office: env("LMP_TOKEN_OFFICE"),
  group: env("LMP_TOKEN_GROUP"),
  portal: env("LMP_TOKEN_PORTAL"),
  otherCity: env("LMP_TOKEN_OTHER_CITY"),
};
const CONSISTENCY = "lmp-consistency-token";
// Titles are unique in a city: a run of its own may share a stack with earlier ones.
const RUN = randomUUID().slice(0, 8);
const WAIT_MS = 30_000;

const LOADING = {
  includeDirs: [env("LMP_PROTO_DIR")],
  keepCase: true, // field names as in the .proto (city_id), as the guide writes them
  longs: String, // int64 arrives as a decimal string
  enums: String,
  defaults: true,
  oneofs: true,
};
let definition = protoLoader.loadSync(
  ["lmp/registry/v1/registry.proto", "lmp/voting/v1/voting.proto"],
  LOADING,
);
const NOTIFICATIONS = process.env.LMP_NOTIFICATIONS_TARGET ?? "";
if (NOTIFICATIONS) definition = {
  ...definition,
  ...protoLoader.loadSync(["lmp/notifications/v1/notifications.proto"], LOADING),
};
const lmp = grpc.loadPackageDefinition(definition).lmp;
const registry = new lmp.registry.v1.RegistryService(
  env("LMP_REGISTRY_TARGET"),
  grpc.credentials.createInsecure(),
);
const voting = new lmp.voting.v1.VotingService(
  env("LMP_VOTING_TARGET"),
  grpc.credentials.createInsecure(),
);

const notifications = NOTIFICATIONS
  ? new lmp.notifications.v1.NotificationsService(NOTIFICATIONS, grpc.credentials.createInsecure())
  : null;

const step = (text) => console.log(`- ${text}`);

// The last consistency token a command answered with (the lead's read-your-writes feature):
// sent with every later call, so a read reflects what this portal wrote. Absent, nothing is sent.
let consistency = "";

function call(client, method, request, token) {
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${token}`);
  if (consistency) metadata.set(CONSISTENCY, consistency);
  return new Promise((resolve, reject) => {
    const pending = client[method](
      request,
      metadata,
      { deadline: Date.now() + 10_000 },
      (error, response) => (error ? reject(error) : resolve(response)),
    );
    pending.on("metadata", (headers) => {
      const [answered] = headers.get(CONSISTENCY);
      if (answered) consistency = String(answered);
    });
  });
}

// A gRPC error with the status code wanted, or the assertion says what came instead.
async function refused(promise, code) {
  try {
    await promise;
  } catch (error) {
    assert.equal(error.code, code, `expected ${grpc.status[code]}, got ${error.code}: ${error.details}`);
    return error;
  }
  assert.fail(`expected ${grpc.status[code]}, the call succeeded`);
}

// "Not yet" is UNAVAILABLE with grpc-retry-pushback-ms: wait that long and ask again.
async function whenReady(attempt) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (error.code !== grpc.status.UNAVAILABLE || Date.now() > deadline) throw error;
      const [pushback] = error.metadata.get("grpc-retry-pushback-ms");
      assert.ok(pushback, `UNAVAILABLE without grpc-retry-pushback-ms: ${error.details}`);
      await sleep(Number(pushback));
    }
  }
}

async function until(read, done) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const found = await whenReady(read);
    if (done(found) || Date.now() > deadline) return found;
    await sleep(200);
  }
}

function checkTheGuidesWorkedExamples() {
  const hook = workedExample(GUIDE, "webhook signature");
  const rawBody = Buffer.from(hook.get("body"), "utf8");
  assert.equal(rawBody.length, Number(hook.get("body_bytes")));
  const header = signature(hook.get("secret"), hook.get("X-LMP-Timestamp"), rawBody);
  assert.equal(header, hook.get("X-LMP-Signature"));
  const headers = {
    "x-lmp-timestamp": hook.get("X-LMP-Timestamp"),
    "x-lmp-signature": hook.get("X-LMP-Signature"),
  };
  const nowS = Number(hook.get("X-LMP-Timestamp")) + 10;
  assert.ok(verifyWebhook({ secret: hook.get("secret"), headers, rawBody, nowS }));
  const tampered = Buffer.from(hook.get("body").replace("sarov", "sarow"), "utf8");
  assert.ok(!verifyWebhook({ secret: hook.get("secret"), headers, rawBody: tampered, nowS }));
  step(`guide's webhook example: ${header} recomputed with node:crypto`);

  const tree = workedExample(GUIDE, "receipt proof");
  const size = Number(tree.get("size"));
  const receipts = Array.from({ length: size }, (_, i) => tree.get(`receipt[${i}]`));
  const leaves = receipts.map(leafHash);
  leaves.forEach((leaf, i) => assert.equal(leaf.toString("hex"), tree.get(`leaf[${i}]`)));
  const node = (range) => Buffer.from(tree.get(`node[${range}]`), "hex");
  assert.deepEqual(nodeHash(leaves[0], leaves[1]), node("0:2"));
  assert.deepEqual(nodeHash(leaves[2], leaves[3]), node("2:4"));
  assert.deepEqual(nodeHash(node("0:2"), node("2:4")), node("0:4"));
  const root = treeHash(leaves).toString("hex");
  assert.equal(root, tree.get("root"));
  assert.equal(nodeHash(node("0:4"), leaves[4]).toString("hex"), root);
  assert.equal(treeHash([]).toString("hex"), tree.get("root_of_none"));
  for (const index of [2, 4]) {
    const proof = tree.get(`proof[${index}]`).split(" ");
    const computed = inclusionPath(index, leaves).map((h) => h.toString("hex"));
    assert.deepEqual(computed, proof);
    assert.ok(verifyInclusion({ receipt: receipts[index], index, size, proof, root }));
    assert.ok(!verifyInclusion({ receipt: receipts[index], index: index - 1, size, proof, root }));
  }
  step(`guide's receipt-proof example: root ${root} and both proofs recomputed`);
}

async function programmeCycle() {
  const city = await call(
    registry,
    "RegisterCity",
    {
      city_id: CITY,
      name: "Саров",
      region: "Нижегородская область",
      kind: "zato",
      population: "92000",
      voter_target: "5",
    },
    TOKENS.office,
  ).catch(async (error) => {
    if (error.code !== grpc.status.ALREADY_EXISTS) throw error;
    return call(registry, "GetCity", { city_id: CITY }, TOKENS.group);
  });
  assert.equal(city.city_id, CITY);
  step(`city ${city.city_id} at stage ${city.stage}`);

  // Stage 1: the city's problems, each with a retry key; the same request again is the same one.
  const titles = ["Unlit courtyards", "Snow on the pavements", "No bus after 22:00"].map(
    (title) => `${title} (${RUN})`,
  );
  const keys = titles.map(() => randomUUID());
  const problems = [];
  for (const [i, title] of titles.entries()) {
    const answer = await call(
      registry,
      "RegisterProblem",
      { city_id: CITY, title, description: `Registered from Node.js (${i + 1})`, request_id: keys[i] },
      TOKENS.group,
    );
    assert.equal(answer.problem.version, "1", "int64 arrives as a string");
    problems.push(answer.problem);
  }
  const retried = await call(
    registry,
    "RegisterProblem",
    { city_id: CITY, title: titles[0], description: "Registered from Node.js (1)", request_id: keys[0] },
    TOKENS.group,
  );
  assert.equal(retried.problem.problem_id, problems[0].problem_id);
  step(`3 problems registered; a retried RegisterProblem answered the same ${retried.problem.problem_id}`);

  const practice = await call(
    registry,
    "RegisterPractice",
    {
      city_id: CITY,
      kind: "own",
      title: `Lights in every courtyard (${RUN})`,
      summary: "Residents choose the courtyards; the administration lights them.",
      authors: [{ person_id: "author-1", name: "Ivanova A." }],
      problem_ids: [problems[0].problem_id],
      cells: [{ function: "infrastructure", method: "external_resources", sub_methods: ["donors"] }],
      request_id: randomUUID(),
    },
    TOKENS.group,
  );
  const got = await call(registry, "GetPractice", { practice_id: practice.practice_id }, TOKENS.portal);
  assert.equal(got.practice_id, practice.practice_id);
  assert.deepEqual(got.problem_ids, [problems[0].problem_id]);
  assert.equal(got.status, "submitted");
  assert.equal(got.lifecycle_step, 1);
  step(`practice ${got.practice_id} (${got.kind}, ${got.status}) solves ${got.problem_ids[0]}`);

  // The portal lists the city's problems two by two, following next_page_token.
  const wanted = new Set(problems.map((p) => p.problem_id));
  const listAll = async () => {
    const seen = [];
    let pageToken = "";
    let pages = 0;
    do {
      const page = await call(
        registry,
        "ListProblems",
        { city_id: CITY, page: { page_size: 2, page_token: pageToken } },
        TOKENS.portal,
      );
      assert.ok(page.problems.length <= 2);
      seen.push(...page.problems);
      pageToken = page.next_page_token;
      pages += 1;
    } while (pageToken);
    return { seen, pages };
  };
  const ours = ({ seen, pages }) => ({ seen: seen.filter((p) => wanted.has(p.problem_id)), pages });
  const listed = await until(async () => ours(await listAll()), ({ seen }) => {
    const linked = seen.find((p) => p.problem_id === problems[0].problem_id);
    return [...wanted].every((id) => seen.some((p) => p.problem_id === id)) && linked?.practice_ids.length;
  });
  assert.deepEqual(new Set(listed.seen.map((p) => p.problem_id)), wanted);
  assert.deepEqual(
    listed.seen.map((p) => p.title),
    [...titles].reverse(),
    "newest first",
  );
  assert.ok(listed.pages >= 2, "three problems in pages of two");
  const linked = listed.seen.find((p) => p.problem_id === problems[0].problem_id);
  assert.deepEqual(linked.practice_ids, [practice.practice_id]);
  step(`ListProblems: ${listed.seen.length} problems in ${listed.pages} pages, newest first`);

  // Bad input names the field; another city's token learns nothing.
  const badId = await refused(
    call(registry, "GetPractice", { practice_id: "not-a-uuid" }, TOKENS.portal),
    grpc.status.INVALID_ARGUMENT,
  );
  assert.equal(badId.code, 3);
  assert.match(badId.details, /practice_id/);
  step(`GetPractice("not-a-uuid"): ${badId.code} INVALID_ARGUMENT "${badId.details}"`);

  const elsewhere = await refused(
    call(registry, "GetPractice", { practice_id: practice.practice_id }, TOKENS.otherCity),
    grpc.status.NOT_FOUND,
  );
  const missing = await refused(
    call(registry, "GetPractice", { practice_id: randomUUID() }, TOKENS.otherCity),
    grpc.status.NOT_FOUND,
  );
  assert.equal(
    elsewhere.details.replace(practice.practice_id, "ID"),
    missing.details.replace(/[0-9a-f-]{36}/, "ID"),
    "another city's practice reads as one that does not exist",
  );
  const notYours = await refused(
    call(registry, "ListProblems", { city_id: CITY }, TOKENS.otherCity),
    grpc.status.PERMISSION_DENIED,
  );
  step(`another city's token: GetPractice NOT_FOUND, ListProblems PERMISSION_DENIED ("${notYours.details}")`);

  return problems;
}

// A webhook receiver on 127.0.0.1: every POST kept with its raw body, answered 204.
async function webhookReceiver() {
  const received = [];
  const server = createServer((request, response) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      received.push({ headers: request.headers, rawBody: Buffer.concat(chunks) });
      response.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const delivered = async (wanted) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const found = received.find(wanted);
      if (found) return found;
      assert.ok(Date.now() < deadline, `no webhook delivery within 60 s (${received.length} others)`);
      await sleep(200);
    }
  };
  return { url: `http://127.0.0.1:${server.address().port}/lmp-hook`, delivered, server };
}

async function subscribeWebhook(receiver) {
  const answer = await call(
    notifications,
    "CreateSubscription",
    {
      city_id: CITY,
      kind: "poll_closed",
      person_id: `node-portal-webhook-${RUN}`,
      channels: ["webhook"],
      webhook_url: receiver.url,
      request_id: randomUUID(),
    },
    TOKENS.portal,
  );
  assert.match(answer.webhook_secret, /^[0-9a-f]{64}$/);
  step(`webhook subscription ${answer.subscription.subscription_id} for poll_closed at ${receiver.url}`);
  return answer.webhook_secret;
}

async function checkDelivery(receiver, secret, poll) {
  const mentions = (d) => d.rawBody.includes(poll.poll_id);
  const delivery = await receiver.delivered(mentions);
  const nowS = Math.floor(Date.now() / 1000);
  assert.ok(verifyWebhook({ secret, headers: delivery.headers, rawBody: delivery.rawBody, nowS }));
  assert.ok(!verifyWebhook({ secret: secret.replace(/^./, "x"), headers: delivery.headers, rawBody: delivery.rawBody, nowS }));
  const body = JSON.parse(delivery.rawBody.toString("utf8"));
  assert.equal(body.kind, "poll_closed");
  assert.equal(body.city_id, CITY);
  assert.equal(delivery.headers["x-lmp-event-kind"], "poll_closed");
  assert.equal(delivery.headers["idempotency-key"], body.delivery_id);
  assert.deepEqual(Object.keys(body), [...Object.keys(body)].sort(), "keys sorted");
  step(`webhook ${body.delivery_id} (${body.subject}): ${delivery.headers["x-lmp-signature"]} verified`);
}

async function vote(problems) {
  const receiver = notifications ? await webhookReceiver() : null;
  const secret = receiver ? await subscribeWebhook(receiver) : "";
  // Stage 3: a city-problem vote. A draft until OpenPoll; the portal casts for its residents.
  const poll = await call(
    voting,
    "CreatePoll",
    {
      city_id: CITY,
      kind: "city_problem",
      title: "Which problem first?",
      method: "single_choice",
      options: problems.map((p) => ({ ref_kind: "problem", ref_id: p.problem_id })),
      electorate: "10",
      request_id: randomUUID(),
    },
    TOKENS.group,
  );
  assert.equal(poll.status, "draft");
  assert.deepEqual(poll.options.map((o) => o.label), problems.map((p) => p.title));
  const opened = await call(voting, "OpenPoll", { poll_id: poll.poll_id }, TOKENS.group);
  assert.equal(opened.status, "open");

  const choices = ["o1", "o1", "o2", "o1", "o3"]; // five ballots: the tree's right edge is ragged
  const receipts = [];
  for (const [i, option] of choices.entries()) {
    const cast = await call(
      voting,
      "CastBallot",
      { poll_id: poll.poll_id, voter_id: `node-resident-${RUN}-${i}`, choices: [{ option_id: option, value: "1" }] },
      TOKENS.portal,
    );
    assert.match(cast.receipt, /^[0-9a-f]{64}$/);
    receipts.push(cast.receipt);
  }
  const again = await refused(
    call(
      voting,
      "CastBallot",
      { poll_id: poll.poll_id, voter_id: `node-resident-${RUN}-0`, choices: [{ option_id: "o2", value: "1" }] },
      TOKENS.portal,
    ),
    grpc.status.ALREADY_EXISTS,
  );
  step(`poll ${poll.poll_id} open, ${receipts.length} ballots cast; a second ballot: ALREADY_EXISTS`);
  void again;

  const closed = await call(voting, "ClosePoll", { poll_id: poll.poll_id }, TOKENS.group);
  assert.equal(closed.status, "closed");
  assert.equal(closed.ballots_counted, String(receipts.length));
  assert.equal(closed.turnout, "50.00");
  assert.equal(closed.results[0].option_id, "o1");
  assert.equal(closed.results[0].votes, "3");
  step(`closed: ${closed.results.map((r) => `${r.option_id}=${r.votes}`).join(" ")}, digest ${closed.digest}`);

  // Every receipt's proof, checked here against the digest ClosePoll published.
  const indexes = new Set();
  for (const receipt of receipts) {
    const proof = await whenReady(() =>
      call(voting, "VerifyReceipt", { poll_id: poll.poll_id, receipt }, TOKENS.portal),
    );
    const size = Number(proof.tree_size);
    const index = Number(proof.leaf_index);
    assert.equal(proof.digest, closed.digest);
    assert.equal(size, receipts.length);
    assert.ok(
      verifyInclusion({ receipt, index, size, proof: proof.proof, root: closed.digest }),
      `the proof of ${receipt} does not lead to the digest`,
    );
    const forged = receipt.replace(/^./, (c) => (c === "0" ? "1" : "0"));
    assert.ok(!verifyInclusion({ receipt: forged, index, size, proof: proof.proof, root: closed.digest }));
    indexes.add(index);
  }
  assert.equal(indexes.size, receipts.length);
  step(`VerifyReceipt: ${receipts.length} inclusion proofs verified in JavaScript against the digest`);

  const otherCity = await refused(
    call(voting, "VerifyReceipt", { poll_id: poll.poll_id, receipt: receipts[0] }, TOKENS.otherCity),
    grpc.status.NOT_FOUND,
  );
  step(`another city's token: VerifyReceipt NOT_FOUND ("${otherCity.details}")`);

  if (receiver) {
    try {
      await checkDelivery(receiver, secret, poll);
    } finally {
      receiver.server.close();
    }
  }
}

async function main() {
  checkTheGuidesWorkedExamples();
  const problems = await programmeCycle();
  step(consistency ? `answers carried ${CONSISTENCY}: ${consistency}` : `no ${CONSISTENCY} in the answers`);
  await vote(problems);
  console.log("node portal: every check held");
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  registry.close();
  voting.close();
  notifications?.close();
}
