#!/usr/bin/env node
// Checks a Dockerfile without a Docker engine (there is none on the build machines): the syntax,
// with the same validator the Dockerfile language server uses (dockerfile-utils), and the shape
// this project wants: several stages on Debian 12, COPY --from naming an earlier stage, and a
// final stage that runs as a non-root user. It does not build the image.
//
//   node check_dockerfile.js Dockerfile
//
// Exits 0 when it passes, 1 when not, 77 when dockerfile-utils is missing (scripts/install-deps).
"use strict";
const fs = require("fs");

let utils;
try {
  utils = require("dockerfile-utils");
} catch (e) {
  console.error("check_dockerfile: dockerfile-utils not found (run scripts/install-deps): " + e.message);
  process.exit(77);
}

const file = process.argv[2];
if (!file) {
  console.error("usage: check_dockerfile.js Dockerfile");
  process.exit(2);
}
const text = fs.readFileSync(file, "utf8");
const problems = [];

for (const d of utils.validate(text)) {
  // severity 1 = error, 2 = warning (LSP); both fail: a warning here is a real mistake.
  if (d.severity <= 2) problems.push(`line ${d.range.start.line + 1}: ${d.message}`);
}

// Instructions, with continuation lines joined and comments dropped.
const instructions = [];
let current = null;
for (const raw of text.split("\n")) {
  const line = raw.trim();
  if (current === null && (line === "" || line.startsWith("#"))) continue;
  const joined = (current === null ? "" : current + " ") + line.replace(/\\$/, "").trim();
  if (line.endsWith("\\")) {
    current = joined;
  } else {
    instructions.push(joined);
    current = null;
  }
}

const stages = [];
for (const ins of instructions) {
  const [keyword, ...rest] = ins.split(/\s+/);
  const kw = keyword.toUpperCase();
  if (kw === "FROM") {
    const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest.join(" "));
    if (!m) {
      problems.push(`FROM not understood: ${ins}`);
      continue;
    }
    stages.push({ image: m[1], name: m[2], user: null });
    if (!/^debian:(12|bookworm)(-slim)?$/.test(m[1]) && !stages.some((s) => s.name === m[1])) {
      problems.push(`stage ${stages.length} is not based on Debian 12: ${m[1]}`);
    }
  } else if (stages.length === 0) {
    if (kw !== "ARG") problems.push(`${kw} before the first FROM`);
  } else if (kw === "USER") {
    stages[stages.length - 1].user = rest.join(" ");
  } else if (kw === "COPY") {
    const from = /--from=(\S+)/.exec(ins);
    if (from && !stages.slice(0, -1).some((s) => s.name === from[1])) {
      problems.push(`COPY --from=${from[1]} does not name an earlier stage`);
    }
  }
}

if (stages.length < 2) problems.push(`expected a multi-stage build, found ${stages.length} stage(s)`);
const last = stages[stages.length - 1];
if (last) {
  const user = (last.user || "").split(":")[0];
  if (!user || user === "root" || user === "0") {
    problems.push(`the final stage runs as ${last.user || "root (no USER)"}, not as a non-root user`);
  }
}

if (problems.length) {
  console.log(`FAIL ${file}\n  - ${problems.join("\n  - ")}`);
  console.log("0 passed, 1 failed");
  process.exit(1);
}
console.log(`ok   ${file}: ${stages.length} stages (${stages.map((s) => s.name || s.image).join(" -> ")}), final user ${last.user}`);
console.log("syntax and structure only: no Docker engine here, the image was not built");
console.log("1 passed, 0 failed");
