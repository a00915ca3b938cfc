// A partner city built on Fedify, for the interoperability test (tests/interop).
//
// It owns an RSA key (HTTP signatures) and an Ed25519 key (object proofs),
// serves its actor and inbox on a loopback port, and checks a zwilling node
// with nothing but Fedify's own client code: WebFinger discovery, the actor
// through Fedify's JSON-LD object model, /vectors and its pages through
// Fedify's signed GETs and `verifyProof`, deliveries through `verifyRequest`.
//
// Protocol with the driving test: one JSON object per line. On stdout, first
// {"event": "ready", ...} (actor URL and public keys, so the node can pin
// them), then one {"step": ..., "ok": ..., "details": ...} per check, each
// carrying Fedify's own diagnostics when it fails. On stdin, commands:
//   {"cmd": "check", "node": "http://127.0.0.1:PORT", "slug": "oldenburg"}
//   {"cmd": "deliveries", "step": "delivery", "within": 20, "quiet": 1.5}
//   {"cmd": "expansion"}   (every document seen so far, through JSON-LD safe mode)
//   {"cmd": "quit"}

import http from "node:http";
import readline from "node:readline";
import { configure } from "@logtape/logtape";
import jsonld from "jsonld";
import {
  Application,
  CryptographicKey,
  Endpoints,
  Multikey,
  Object as APObject,
  OrderedCollection,
  OrderedCollectionPage,
  generateCryptoKeyPair,
  getAuthenticatedDocumentLoader,
  getDocumentLoader,
  isActor,
  lookupObject,
  lookupWebFinger,
  verifyProof,
  verifyRequest,
} from "@fedify/fedify";

const MAX_PAGES = 100;

// ---------------------------------------------------------------- output

function emit(record) {
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

function describe(error) {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

// Fedify explains a refusal only in its log (verifyRequest and verifyProof
// return null); the records since a check began go into that check's details.
const diagnostics = [];

function render(record) {
  const parts = record.message.map((part, index) => {
    if (index % 2 === 0) return part;
    if (typeof part === "string") return part;
    if (part instanceof Error) return describe(part);
    try {
      return JSON.stringify(part) ?? String(part);
    } catch {
      return String(part);
    }
  });
  const text = `${record.category.join(".")} ${record.level}: ${parts.join("")}`;
  return text.length > 1500 ? `${text.slice(0, 1500)}…` : text;
}

function since(mark) {
  return diagnostics.slice(mark);
}

// Fetches and preloaded contexts are logged at debug level by the loader;
// its errors and everything else (signatures, keys, proofs) are kept.
function collect(record) {
  if (record.category[1] === "runtime" && record.level === "debug") return;
  diagnostics.push(render(record));
}

await configure({
  sinks: { collect },
  loggers: [
    { category: ["fedify"], lowestLevel: "debug", sinks: ["collect"] },
    { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
  ],
});

// ---------------------------------------------------------------- network

// `acct:` URIs imply https (RFC 7033), and Fedify's WebFinger client always
// asks https://<host>/.well-known/webfinger. The node under test listens on
// plain HTTP on loopback, so requests to exactly its origin go there over
// http; everything else (and every header, the Host included) is unchanged.
// Refused responses are noted with their body, which holds the node's reason.
let nodeOrigin = null;
const plainFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  let request = input instanceof Request ? input : new Request(input, init);
  const url = new URL(request.url);
  if (nodeOrigin !== null && url.protocol === "https:" && url.host === nodeOrigin.host) {
    url.protocol = "http:";
    request = new Request(url, request);
  }
  const response = await plainFetch(request, input instanceof Request ? init : undefined);
  if (!response.ok && !(response.status >= 300 && response.status < 400)) {
    const body = (await response.clone().text()).slice(0, 500);
    diagnostics.push(`http ${request.method} ${request.url} → ${response.status}: ${body}`);
  }
  return response;
};

const documentLoader = getDocumentLoader({ allowPrivateAddress: true });
const contextLoader = documentLoader;

// ---------------------------------------------------------------- own actor

const rsa = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
const ed25519 = await generateCryptoKeyPair("Ed25519");

async function spkiPem(key) {
  const der = Buffer.from(await crypto.subtle.exportKey("spki", key));
  const lines = der.toString("base64").match(/.{1,64}/g).join("\n");
  return `-----BEGIN PUBLIC KEY-----\n${lines}\n-----END PUBLIC KEY-----\n`;
}

const deliveries = [];
// Every document read or received from the node, for the JSON-LD expansion check.
const documents = [];

const server = http.createServer((req, res) => {
  handle(req, res).catch((error) => {
    diagnostics.push(`partner: ${req.method} ${req.url} failed: ${describe(error)}`);
    res.writeHead(500, { "Content-Type": "text/plain" });
    res.end("partner error");
  });
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${server.address().port}`;
const actorId = new URL(`${origin}/actor`);
const mainKeyId = new URL(`${origin}/actor#main-key`);

const actor = new Application({
  id: actorId,
  preferredUsername: "partner",
  name: "Fedify partner city",
  inbox: new URL(`${origin}/inbox`),
  endpoints: new Endpoints({ sharedInbox: new URL(`${origin}/inbox`) }),
  publicKey: new CryptographicKey({ id: mainKeyId, owner: actorId, publicKey: rsa.publicKey }),
  assertionMethods: [
    new Multikey({
      id: new URL(`${origin}/actor#ed25519-key`),
      controller: actorId,
      publicKey: ed25519.publicKey,
    }),
  ],
});
const actorJson = JSON.stringify(await actor.toJsonLd({ format: "compact", contextLoader }));

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function summary(body) {
  try {
    const activity = JSON.parse(body.toString("utf8"));
    const object = activity?.object;
    return {
      id: activity?.id ?? null,
      type: activity?.type ?? null,
      object_type: typeof object === "object" && object !== null ? object.type ?? null : null,
    };
  } catch {
    return { id: null, type: null, object_type: null };
  }
}

async function handle(req, res) {
  const url = new URL(req.url, origin);
  if (req.method === "GET" && url.pathname === "/actor") {
    res.writeHead(200, { "Content-Type": "application/activity+json" });
    res.end(actorJson);
    return;
  }
  if (req.method === "POST" && url.pathname === "/inbox") {
    const body = await readBody(req);
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      headers.set(name, Array.isArray(value) ? value.join(", ") : value);
    }
    const request = new Request(url, { method: "POST", headers, body });
    try {
      documents.push({ what: "delivered activity", document: JSON.parse(body.toString("utf8")) });
    } catch {
      // not JSON: verifyRequest still decides, the expansion check has nothing to read
    }
    const mark = diagnostics.length;
    let key = null;
    let error = null;
    try {
      key = await verifyRequest(request, { documentLoader, contextLoader });
    } catch (caught) {
      error = describe(caught);
    }
    const signature = headers.get("signature") ?? "";
    const record = {
      ...summary(body),
      key_id: /keyId="([^"]*)"/.exec(signature)?.[1] ?? null,
      verified: key !== null,
      verified_key: key?.id?.href ?? null,
      signature_input: headers.get("signature-input"),
    };
    if (key === null) {
      record.error = error ?? "verifyRequest returned null";
      record.fedify = since(mark);
    }
    deliveries.push(record);
    res.writeHead(key === null ? 401 : 202, { "Content-Type": "text/plain" });
    res.end(key === null ? "signature not verified by Fedify" : "accepted");
    return;
  }
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end("not found");
}

// ---------------------------------------------------------------- checks

async function step(name, run) {
  const mark = diagnostics.length;
  try {
    const { ok, ...details } = await run();
    emit({ step: name, ok, details: ok ? details : { ...details, fedify: since(mark) } });
    return ok ? details : null;
  } catch (error) {
    emit({ step: name, ok: false, details: { error: describe(error), fedify: since(mark) } });
    return null;
  }
}

async function discover(node, slug) {
  const host = new URL(node).host;
  const resource = `acct:${slug}@${host}`;
  const jrd = await lookupWebFinger(resource, { allowPrivateAddress: true });
  if (jrd === null) return { ok: false, resource, error: "lookupWebFinger returned null" };
  const self = (jrd.links ?? []).find(
    (link) =>
      link.rel === "self" &&
      ["application/activity+json", 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'].includes(
        link.type,
      ),
  );
  if (self?.href == null) return { ok: false, resource, jrd, error: "no rel=self ActivityPub link" };
  return { ok: true, resource, subject: jrd.subject, actor: self.href };
}

async function readActor(actorUrl) {
  documents.push({ what: "actor", document: (await documentLoader(actorUrl)).document });
  const object = await lookupObject(actorUrl, { documentLoader, contextLoader });
  if (object === null) return { ok: false, actor: actorUrl, error: "lookupObject returned null" };
  if (!isActor(object)) {
    return { ok: false, actor: actorUrl, error: `not an actor: ${object.constructor.name}` };
  }
  const rsaKeys = [];
  for await (const key of object.getPublicKeys({ documentLoader, contextLoader })) {
    rsaKeys.push({ id: key.id?.href ?? null, algorithm: key.publicKey?.algorithm?.name ?? null });
  }
  const multikeys = [];
  for await (const key of object.getAssertionMethods({ documentLoader, contextLoader })) {
    multikeys.push({ id: key.id?.href ?? null, algorithm: key.publicKey?.algorithm?.name ?? null });
  }
  const hasRsa = rsaKeys.some((key) => key.algorithm === "RSASSA-PKCS1-v1_5");
  const hasEd25519 = multikeys.some((key) => key.algorithm === "Ed25519");
  const found = {
    actor: object.id?.href ?? null,
    type: object.constructor.name,
    inbox: object.inboxId?.href ?? null,
    publicKey: rsaKeys,
    assertionMethod: multikeys,
  };
  const problems = [];
  if (!hasRsa) problems.push("no RSA publicKey found through Fedify's object model");
  if (!hasEd25519) problems.push("no Ed25519 Multikey under assertionMethod found through Fedify's object model");
  return problems.length ? { ok: false, ...found, error: problems.join("; ") } : { ok: true, ...found };
}

async function verifyDocument(document, loader) {
  const object = await APObject.fromJsonLd(document, { documentLoader: loader, contextLoader });
  const results = [];
  for await (const proof of object.getProofs({ documentLoader: loader, contextLoader })) {
    const key = await verifyProof(document, proof, { documentLoader, contextLoader });
    results.push({
      verificationMethod: proof.verificationMethodId?.href ?? null,
      cryptosuite: proof.cryptosuite,
      verified: key !== null,
    });
  }
  return { object, results };
}

async function pullVectors(node) {
  // Fedify's signed GET: draft-cavage, (request-target) over the path only.
  const signedLoader = getAuthenticatedDocumentLoader(
    { keyId: mainKeyId, privateKey: rsa.privateKey },
    { allowPrivateAddress: true },
  );
  const pages = [];
  let url = `${node}/vectors`;
  const seen = new Set();
  while (url !== null && pages.length < MAX_PAGES && !seen.has(url)) {
    seen.add(url);
    const entry = { url };
    pages.push(entry);
    let document;
    try {
      document = (await signedLoader(url)).document;
    } catch (error) {
      entry.error = `signed GET failed: ${describe(error)}`;
      break;
    }
    documents.push({ what: "vectors", document });
    const { object, results } = await verifyDocument(document, signedLoader);
    entry.type = object.constructor.name;
    entry.proofs = results;
    if (object instanceof OrderedCollection) {
      entry.totalItems = object.totalItems;
      url = object.firstId?.href ?? null;
    } else if (object instanceof OrderedCollectionPage) {
      entry.items = Array.isArray(document.orderedItems) ? document.orderedItems.length : null;
      url = object.nextId?.href ?? null;
    } else {
      entry.error = "neither an OrderedCollection nor an OrderedCollectionPage";
      break;
    }
    if (results.length === 0) entry.error = "no proof found through Fedify's object model";
    else if (!results.every((result) => result.verified)) entry.error = "verifyProof returned null";
  }
  const pageCount = pages.filter((page) => page.type === "OrderedCollectionPage").length;
  const failed = pages.filter((page) => page.error !== undefined);
  const total = pages[0]?.totalItems;
  const items = pages.reduce((sum, page) => sum + (page.items ?? 0), 0);
  const problems = failed.map((page) => `${page.url}: ${page.error}`);
  if (!failed.length && pageCount === 0) problems.push("no page after the collection");
  if (!failed.length && total != null && total !== items) {
    problems.push(`the collection announces ${total} items, its pages hold ${items}`);
  }
  const ok = problems.length === 0;
  return { ok, pages, ...(ok ? {} : { error: problems.join("; ") }) };
}

async function check(node, slug) {
  nodeOrigin = new URL(node);
  const found = await step("webfinger", () => discover(node, slug));
  const actorUrl = found?.actor ?? `${node}/actor`;
  await step("actor", () => readActor(actorUrl));
  await step("vectors", () => pullVectors(node));
}

// Deliveries that arrived since the previous report, once none came for
// `quiet` seconds (or `within` seconds passed).
async function reportDeliveries(name, within, quiet) {
  const deadline = Date.now() + within * 1000;
  let count = deliveries.length;
  let lastArrival = Date.now();
  while (Date.now() < deadline) {
    if (deliveries.length !== count) {
      count = deliveries.length;
      lastArrival = Date.now();
    }
    if (count > 0 && Date.now() - lastArrival >= quiet * 1000) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const received = deliveries.splice(0);
  const ok = received.length > 0 && received.every((delivery) => delivery.verified);
  const details = { received };
  if (!received.length) details.error = `no delivery arrived within ${within} s`;
  else if (!ok) details.error = "Fedify's verifyRequest refused a delivery";
  emit({ step: name, ok, details });
}

// Terms the contexts do not define: JSON-LD safe mode refuses those that
// would be dropped, and the ActivityStreams context's `"@vocab": "_:"` turns
// the others into blank-node properties and types (`_:assertionMethod`),
// which no reader can rely on; both count. So does a term under a domain
// reserved for examples (RFC 2606), which nobody can keep as an identifier.
function exampleDomain(iri) {
  try {
    const host = new URL(iri).hostname;
    return /(^|\.)example$/.test(host) || /(^|\.)example\.(com|net|org)$/.test(host);
  } catch {
    return false;
  }
}

function unusableTerms(node, found = new Set()) {
  const check = (term) => {
    if (term.startsWith("_:") || exampleDomain(term)) found.add(term);
  };
  if (Array.isArray(node)) {
    for (const item of node) unusableTerms(item, found);
  } else if (node !== null && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      check(key);
      if (key === "@type") {
        for (const type of [value].flat()) if (typeof type === "string") check(type);
      }
      unusableTerms(value, found);
    }
  }
  return found;
}

async function expansion() {
  const results = [];
  for (const { what, document } of documents.splice(0)) {
    const result = { what, id: document?.id ?? null };
    try {
      const expanded = await jsonld.expand(document, { documentLoader: contextLoader, safe: true });
      const terms = [...unusableTerms(expanded)].sort();
      const blank = terms.filter((term) => term.startsWith("_:"));
      const example = terms.filter((term) => !term.startsWith("_:"));
      result.ok = terms.length === 0;
      if (blank.length) result.undefined_terms = blank;
      if (example.length) result.example_domain_terms = example;
      if (!result.ok) {
        result.error = `${blank.length} undefined term(s), ${example.length} under an example domain`;
      }
    } catch (error) {
      result.ok = false;
      const event = error?.details?.event;
      result.error = describe(error);
      if (event) result.event = { code: event.code, details: event.details };
    }
    results.push(result);
  }
  const ok = results.length > 0 && results.every((result) => result.ok);
  const failed = results.filter((result) => !result.ok);
  const details = { checked: results.map(({ what, id, ok }) => ({ what, id, ok })) };
  if (!results.length) details.error = "no document to check";
  else if (failed.length) {
    details.error = `${failed.length} document(s) with terms no reader can rely on`;
    details.failed = failed;
  }
  emit({ step: "json-ld expansion", ok, details });
}

// ---------------------------------------------------------------- main

emit({
  event: "ready",
  actor: actorId.href,
  keys: { rsa: await spkiPem(rsa.publicKey), ed25519: await spkiPem(ed25519.publicKey) },
});

const commands = readline.createInterface({ input: process.stdin });
for await (const line of commands) {
  if (!line.trim()) continue;
  let command;
  try {
    command = JSON.parse(line);
  } catch (error) {
    emit({ event: "error", error: `bad command: ${describe(error)}` });
    continue;
  }
  if (command.cmd === "check") await check(command.node, command.slug);
  else if (command.cmd === "deliveries") {
    await reportDeliveries(command.step ?? "delivery", command.within ?? 20, command.quiet ?? 1.5);
  } else if (command.cmd === "expansion") await expansion();
  else if (command.cmd === "quit") break;
  else emit({ event: "error", error: `unknown command ${command.cmd}` });
}
server.close();
process.exit(0);
