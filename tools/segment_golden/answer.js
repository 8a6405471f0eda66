#!/usr/bin/env node
// Computes Segment's own answers for the golden corpus: reads cases (JSON Lines) on stdin,
// writes one answer per case (JSON Lines) on stdout. Runs the pinned npm packages installed
// by refresh.py into .cache/ (never committed): @segment/actions-core's mapping-kit
// transform() and @segment/destination-subscriptions' generateFql/parseFql/validate.
'use strict'
const path = require('path')
const readline = require('readline')
const cache = path.join(__dirname, '.cache', 'node_modules')
const { transform } = require(path.join(cache, '@segment/actions-core/dist/cjs/mapping-kit'))
const subs = require(path.join(cache, '@segment/destination-subscriptions'))

// JSON cannot carry undefined, NaN, -0, functions or prototype objects: tag them.
// Plain object keys that start with "$" get one more "$" so tags never collide.
function enc(v, seen = new Set()) {
  if (v === undefined) return { $undef: true }
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return { $num: 'NaN' }
    if (v === Infinity) return { $num: 'Infinity' }
    if (v === -Infinity) return { $num: '-Infinity' }
    if (Object.is(v, -0)) return { $num: '-0' }
    return v
  }
  if (typeof v === 'function') return { $fn: v.name }
  if (v === null || typeof v !== 'object') return v
  if (v === Object.prototype) return { $proto: 'Object' }
  if (v === Array.prototype) return { $proto: 'Array' }
  if (seen.has(v)) return { $cycle: true }
  seen.add(v)
  let out
  if (Array.isArray(v)) {
    out = []
    for (let i = 0; i < v.length; i++) out.push(enc(v[i], seen))
  } else {
    out = {}
    const proto = Object.getPrototypeOf(v)
    if (proto !== Object.prototype && proto !== null) out.$protoOf = enc(proto, seen)
    for (const k of Object.keys(v)) {
      // defineProperty: an own "__proto__" key stays a key (assignment would set the prototype)
      Object.defineProperty(out, k.startsWith('$') ? '$' + k : k, { value: enc(v[k], seen), enumerable: true, writable: true, configurable: true })
    }
  }
  seen.delete(v)
  return out
}

function encError(e) {
  if (e && e.constructor && e.constructor.name === 'AggregateError' && typeof e[Symbol.iterator] === 'function') {
    return { class: 'AggregateError', messages: [...e].map((x) => x.message) }
  }
  return { class: (e && e.constructor && e.constructor.name) || typeof e, message: e && e.message }
}

function answer(c, events) {
  if (c.kind === 'mapping') {
    const event = JSON.parse(events[c.event])
    try {
      return { id: c.id, result: enc(transform(c.mapping, event)) }
    } catch (e) {
      return { id: c.id, error: encError(e) }
    }
  }
  if (c.kind === 'trigger') {
    const out = { id: c.id }
    let fql = c.fql
    if (c.ui !== undefined) {
      try {
        fql = subs.generateFql(c.ui)
        out.fql = fql
      } catch (e) {
        out.generate_error = encError(e)
        return out
      }
    }
    const ast = subs.parseFql(fql)
    if (ast.error) out.error = encError(ast.error)
    else out.ast = enc(ast)
    out.results = c.events.map((i) => {
      try {
        return subs.validate(ast, JSON.parse(events[i]))
      } catch (e) {
        return { error: encError(e) }
      }
    })
    return out
  }
  throw new Error(`unknown case kind ${c.kind}`)
}

async function main() {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
  let events = null
  const out = []
  for await (const line of rl) {
    if (!line) continue
    const c = JSON.parse(line)
    if (c.kind === 'events') {
      events = c.events
      continue
    }
    out.push(JSON.stringify(answer(c, events)))
    if (out.length >= 1000) {
      process.stdout.write(out.join('\n') + '\n')
      out.length = 0
    }
  }
  if (out.length) process.stdout.write(out.join('\n') + '\n')
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
