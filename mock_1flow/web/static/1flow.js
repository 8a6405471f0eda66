/*
 * mock-1flow's double of 1Flow's web SDK (served at /js/1flow.js; see mock_1flow/web/routes.py).
 *
 * Defines window._1flow(method, ...args) as Segment's 1Flow Web (Actions) calls it:
 *   _1flow('track', name, {userId, anonymousId, properties})
 *   _1flow('identify', userId, {...traits})
 * The project key is the data-api-key attribute of this script's tag; requests go to the
 * origin of its src. Each call is first reported to the mock as made (POST /js/1flow/calls, journaled); the mock's answer says
 * whether the call is sent on and where the project's SDK API is. Then the calls go out on
 * the wire of mock-1flow's `web` profile (FIDELITY.md: 1Flow's current web SDK wire format
 * is not public): POST /v3/user once per device (the device id is kept in localStorage),
 * POST /v3/track with plt "w", POST /v3/identify. Calls run one after another, in order.
 *
 * The destination's stub (calls made before this script loaded) re-calls window._1flow
 * every 5 ms until it is replaced: this script replaces it at once, so those calls arrive
 * here. Nothing here throws into the page: a bad call or a failed request is a
 * console.warn.
 */
(function (window, document) {
  'use strict'
  var PREFIX = 'mock-1flow web SDK: '

  function warn(message) {
    try { window.console && window.console.warn(PREFIX + message) } catch (ignored) {}
  }

  function ownTag() {
    var tag = document.currentScript
    if (tag && tag.getAttribute('data-api-key') !== null) return tag
    var tags = document.getElementsByTagName('script')
    for (var i = tags.length - 1; i >= 0; i--) {
      if (/\/1flow\.js(\?|#|$)/.test(tags[i].src || '') && tags[i].getAttribute('data-api-key') !== null) return tags[i]
    }
    return tag
  }

  var tag = ownTag()
  // Everything goes to the origin this script came from: the mock itself, or 1Flow's host
  // when a hosts file, a proxy or a browser test's routing sends that host to the mock.
  var BASE = tag && tag.src ? new URL(tag.src, window.location.href).origin : window.location.origin
  var existing = window.__mock1flowWebSdk
  if (existing && existing.base === BASE) {
    window._1flow = existing.call // loaded again (a second tag): replace the stub again
    return
  }
  var key = tag ? tag.getAttribute('data-api-key') : null
  if (!key) warn('no data-api-key on the script tag: calls are recorded, and the mock answers them as calls without a key')
  var storageKey = 'mock_1flow_device:' + (key || '')
  var memory = {}

  function load() {
    try {
      var text = window.localStorage.getItem(storageKey)
      if (text) return JSON.parse(text)
    } catch (ignored) {}
    return memory[storageKey] || null
  }

  function save(device) {
    memory[storageKey] = device
    try { window.localStorage.setItem(storageKey, JSON.stringify(device)) } catch (ignored) {}
  }

  function hex(length) {
    var out = ''
    var bytes = new Uint8Array(length / 2)
    window.crypto.getRandomValues(bytes)
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16)
    return out
  }

  function device() {
    var known = load()
    if (known && typeof known.device_id === 'string') return known
    known = { device_id: 'web-' + hex(32), analytic_user_id: null }
    save(known)
    return known
  }

  function post(path, body) {
    var headers = { 'Content-Type': 'application/json' }
    if (key) headers.one_flow_key = key
    return window.fetch(BASE + path, { method: 'POST', headers: headers, body: JSON.stringify(body) })
      .then(function (response) {
        return response.json().then(function (answer) {
          if (!response.ok) throw new Error('POST ' + path + ' answered ' + response.status + ': ' + (answer && answer.message))
          return answer
        })
      })
  }

  // The report as JSON (undefined becomes null), within what POST /js/1flow/calls takes.
  function encode(method, args) {
    var page = String(window.location.href).slice(0, 4096)
    var reportKey = key === null ? null : key.slice(0, 1000)
    args = args.slice(0, 20)
    try {
      var text = JSON.stringify({ key: reportKey, method: method === undefined ? null : method, args: args, page: page })
      return JSON.parse(text)
    } catch (error) {
      return { key: reportKey, method: typeof method === 'string' ? method : String(method), args: args.map(String),
               page: page, encoding_error: String(error && error.message || error).slice(0, 1000) }
    }
  }

  function register(api) {
    var current = device()
    if (current.analytic_user_id) return Promise.resolve(current)
    return post(api + '/v3/user', { user_id: current.device_id }).then(function (answer) {
      current.analytic_user_id = answer.result.analytic_user_id
      save(current)
      return current
    })
  }

  function send(api, method, args) {
    return register(api).then(function (current) {
      var options = args[1] || {}
      if (method === 'track') {
        return post(api + '/v3/track', {
          user_id: current.analytic_user_id,
          events: [{ name: args[0], time: Math.floor(Date.now() / 1000), parameters: options.properties || {},
                     plt: 'w', _id: hex(24) }]
        })
      }
      return post(api + '/v3/identify', {
        anonymous_user_id: current.analytic_user_id, user_id: args[0], log_user: true, parameters: options
      }).then(function (answer) {
        current.analytic_user_id = answer.result.analytic_user_id // the identified user's id from now on
        save(current)
      })
    })
  }

  var queue = Promise.resolve()

  function call(method) {
    var args = Array.prototype.slice.call(arguments, 1)
    try {
      var report = encode(method, args)
      queue = queue.then(function () {
        return post('/js/1flow/calls', report).then(function (answer) {
          if (!answer.result.sent) {
            warn(answer.message)
            return
          }
          return send(answer.result.api, report.method, report.args)
        })
      }).catch(function (error) {
        warn(String(error && error.message || error))
      })
    } catch (error) {
      warn(String(error && error.message || error))
    }
  }

  call.projectApiKey = key
  window.__mock1flowWebSdk = { base: BASE, call: call, idle: function () { return queue } }
  window._1flow = call
})(window, document)
