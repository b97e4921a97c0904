#!/usr/bin/env node
// A committed entry point, so installing the workspace can link the bin before anything is built.
await import("../dist/engine/imapferry-sync.mjs");
