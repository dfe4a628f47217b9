/*
 * Verity snippet, version 1.
 *
 *   <script defer src="https://collector.example/s/v1.js" data-site="pk_..."></script>
 *
 * Gets a page-load token from the collector, solves its proof of work in
 * small main-thread slices, and sends this page load's events in numbered
 * batches. The wire format, limits and tag attributes are in
 * docs/protocol.md; script/testdata/golden holds real request bodies.
 *
 * Rules for this file: one dependency-free IIFE in strict mode; no cookies,
 * no storage; every entry point (listeners, timers, promises, the history
 * wrappers, window.verity) is wrapped so that nothing is ever thrown into the
 * host page. `go generate ./script/` minifies it into dist/v1.min.js, where
 * esbuild inlines the consts below. A test holds that to 3072 bytes gzipped,
 * so the code is written to minify small: arrow functions, expressions,
 * default parameters as locals. Every byte counts; measure before adding.
 */
(function () {
  'use strict';

  // Limits. script/limits.go holds the same numbers (a test compares them)
  // and the collector enforces them; the snippet never sends more. Lengths
  // are UTF-16 code units, so a cut string has at most as many code points.
  const MAX_EVENTS = 200; // events per page-load token (and so batches: seq <= 200)
  const MAX_BATCH_EVENTS = 50; // events per batch
  const MAX_BATCH_CHARS = 10240; // JSON characters of one batch's events: at most 3 UTF-8 bytes each
  const MAX_URL = 2048; // url, referrer, href
  const MAX_TITLE = 256; // page title
  const MAX_SHORT = 64; // language, automation global names
  const MAX_NAME = 64; // custom event name
  const MAX_PROPS = 10; // properties per custom event
  const MAX_KEY = 64; // property name
  const MAX_VALUE = 256; // property value
  const MAX_GLOBALS = 8; // automation globals reported

  const RETRIES = 3; // tries after the first: network error, 429, 5xx
  const SLICE_MS = 5; // proof-of-work slice on the main thread
  const FLUSH_MS = 1000; // events wait this long to share a batch

  const win = window;
  const doc = document;
  const nav = navigator;
  const loc = location;
  const perf = performance;
  const stub = win.verity; // the queue stub, when the page set one up
  const tag = doc.currentScript || doc.querySelector('script[data-site][src*="/s/v1.js"]');

  let site, origin, hashMode, checks, automation, downloads, landing, current, key, seen; // configuration; the current page
  let busy, dead, hidden, timer; // state
  let token, nonce, solveMs, exp, seq, sent; // the current page-load token
  let lcp, cls, inp; // Web Vitals so far
  let signalled = 0, depth = 0, queue = [], perm;

  // safe wraps an entry point: whatever goes wrong stays inside the snippet.
  const safe = (fn) => (...a) => {
    try {
      return fn(...a);
    } catch (e) {}
  };
  // Listeners go on window in the capture phase, which every event
  // (document's too) passes first: a host handler that stops propagation
  // cannot hide a click.
  const on = (type, fn) => win.addEventListener(type, safe(fn), true);
  const attr = (name) => tag.getAttribute('data-' + name);
  const flag = (name) => attr(name) == 'true';
  const cut = (s, n) => ('' + s).slice(0, n);
  const now = () => Date.now();
  const page = () => cut(hashMode ? loc.href : loc.href.split('#')[0], MAX_URL);

  // ev queues one event: type, url (of the current page unless given) and
  // the fields. A flush follows within FLUSH_MS.
  const ev = (type, fields, url = page()) => {
    if (queue.length < MAX_EVENTS) queue.push({ type, url, ...fields });
    timer = timer || setTimeout(safe(flush), FLUSH_MS);
  };

  // vital queues a Web Vital of the landing page: milliseconds, rounded, or
  // CLS with scale 1e4 (four decimals). Missing values are skipped.
  const vital = (name, v, scale = 1) => v >= 0 && ev('vital', { name, value: Math.round(v * scale) / scale }, landing);

  // navigated counts a pageview: the first one, then each SPA navigation
  // that changed the path (and, with data-hash, the hash), after the
  // previous page's engagement. A SPA pageview's referrer is the previous page.
  const navigated = (e, referrer = current) => {
    if (key != (key = loc.pathname + (hashMode ? loc.hash : ''))) {
      scrolled();
      engagement();
      depth = 0;
      ev('pageview', {
        referrer: cut(referrer, MAX_URL),
        title: cut(doc.title, MAX_TITLE),
        screen_w: screen.width,
        lang: cut(nav.language, MAX_SHORT),
        tz: Intl.DateTimeFormat().resolvedOptions().timeZone,
      }, (current = page()));
    }
  };

  // engagement reports the visible time since the last report and the
  // deepest scroll so far (percent), for the current page.
  const engagement = (ms = seen && now() - seen) => {
    seen = !doc.hidden && now();
    if (ms) ev('engagement', { ms, scroll: depth }, current);
  };

  const scrolled = () => (depth = Math.max(depth, Math.min(100, Math.round(((scrollY + innerHeight) / doc.documentElement.scrollHeight) * 100)) || 0));

  // track queues a custom event: verity('signup', {plan: 'pro'}). Property
  // values that are strings, numbers or booleans are sent as strings.
  const track = (name, props, p = {}, n = 0) => {
    if (name && typeof name == 'string') {
      for (const k in props) {
        if (k && n < MAX_PROPS && /^(st|n|b)/.test(typeof props[k])) {
          p[cut(k, MAX_KEY)] = cut(props[k], MAX_VALUE);
          n++;
        }
      }
      ev('custom', { name: cut(name, MAX_NAME), props: p });
    }
  };

  // clicked handles clicks on data-verity-event elements (custom events,
  // with data-verity-prop-* properties) and on links: downloads (by
  // extension or <a download>) and outbound links (another host).
  const clicked = (e, t = e.target, p = {}) => {
    let a = t.closest('[data-verity-event]');
    if (a) {
      for (const x of a.attributes) if (!x.name.indexOf('data-verity-prop-')) p[x.name.slice(17)] = x.value;
      track(a.getAttribute('data-verity-event'), p);
    }
    if ((a = t.closest('a[href]')) && /^http/.test((p = a.href))) {
      p = { href: cut(p, MAX_URL) };
      if (a.hasAttribute('download') || (downloads && RegExp(downloads, 'i').test(a.pathname))) ev('download', p);
      else if (a.host != loc.host) ev('outbound', p);
    }
  };

  // hide runs when the page is hidden or left: engagement, the final values
  // of LCP, CLS and INP (once per page load), then everything queued goes
  // out with sendBeacon.
  const hide = () => {
    scrolled();
    engagement();
    seen = 0; // pagehide and visibilitychange both come: count once
    if (!hidden) {
      hidden = 1;
      vital('LCP', lcp);
      vital('CLS', cls, 1e4);
      vital('INP', inp);
    }
    flush(1);
  };

  // signals is the automation-signal blob, sent once per page load with the
  // first batch. Client-reported: the scorer weighs it, never trusts it alone.
  const signals = (pattern = RegExp(automation || '$.'), x = doc.createElement('canvas').getContext('webgl')) => ({
    webdriver: !!nav.webdriver,
    // Names of window and document properties that match the pattern the
    // collector sent (globals that automation tools leave behind).
    globals: Object.keys(win).concat(Object.keys(doc)).filter((k) => pattern.test(k)).slice(0, MAX_GLOBALS).map((k) => cut(k, MAX_SHORT)),
    langs: nav.languages.length,
    // A software WebGL renderer (SwiftShader, llvmpipe): the GPU-less
    // machines that headless browsers run on. RENDERER is 7937; Chromium
    // and Safari mask it as "WebKit WebGL", and their debug extension tells
    // the real one (UNMASKED_RENDERER_WEBGL, 37446); Firefox tells it
    // unmasked and warns when that extension is asked for. No WebGL: false.
    sw_gl: /swiftshader|llvmpipe/i.test(x && x.getParameter(/^WebKit/.test(x.getParameter(7937)) && x.getExtension('WEBGL_debug_renderer_info') ? 37446 : 7937)),
    win: [innerWidth, innerHeight, outerWidth, outerHeight],
    perm,
  });

  // flush sends what is queued, in batches, while the token lasts; with
  // unload set it uses sendBeacon and never starts a challenge.
  const flush = (unload, events, size) => {
    timer = 0;
    while (!dead && queue[0]) {
      if (!token || now() > exp || sent >= MAX_EVENTS) return unload || challenge();
      // DOM checks, once, with the first batch: for each check the
      // collector named, [matches of its selector, length of the first
      // match's content attribute or text].
      if (!signalled && checks) {
        for (const k in checks) {
          events = doc.querySelectorAll(checks[k]);
          size = events[0] || {};
          checks[k] = [events.length, (size.content || size.text || '').length];
        }
        ev('dom_check', { checks });
      }
      for (events = [], size = 0; queue[0] && events.length < MAX_BATCH_EVENTS && sent < MAX_EVENTS && ((size += JSON.stringify(queue[0]).length) < MAX_BATCH_CHARS || !events[0]); sent++) {
        events.push(queue.shift());
      }
      events = JSON.stringify({ token, n: nonce, solve_ms: solveMs, seq: ++seq, events, signals: signalled++ ? undefined : safe(signals)() });
      (unload && nav.sendBeacon(origin + '/api/event', events)) || post('/api/event', events, 1);
    }
  };

  // post sends a text/plain body (a CORS simple request: no preflight) and
  // resolves to the response, to false when refused (4xx), or to nothing
  // when it gave up. Network errors, 429 and 5xx are tried again after 2,
  // 4 and 6 s; other 4xx never are.
  const post = async (path, body, keepalive, i = 0, res) => {
    for (;;) {
      try {
        res = await fetch(origin + path, { method: 'POST', body, credentials: 'omit', keepalive });
        if (res.ok || (res.status < 500 && res.status != 429)) return res.ok && res;
      } catch (e) {}
      if (i++ >= RETRIES) return;
      await new Promise((ok) => setTimeout(ok, 2000 * i));
    }
  };

  // challenge gets a page-load token and solves its proof of work; events
  // queue meanwhile. A refusal (4xx) or an unsolvable challenge stops the
  // snippet for this page load. An expired or used-up token is renewed
  // when there are events to send and the page is not being left.
  const challenge = async (res, c) => {
    if (busy || dead) return;
    busy = 1;
    token = '';
    try {
      if ((res = await post('/api/challenge', JSON.stringify({ site, url: page() })))) {
        c = await res.json();
        res = c.pow;
        nonce = await solve([...words(res.plid), 0, 1 << 31, 0, 0, 0, 0, 0, 0, 0, 0, 0, 160], words(res.target), res.max);
        if (nonce < 0) dead = 1;
        else {
          token = c.token;
          checks = c.checks;
          automation = c.globals;
          downloads = c.downloads;
          exp = now() + c.ttl * 900; // 10% early
          seq = sent = busy = 0;
          timer || flush();
        }
      } else dead = res === false;
    } catch (e) {
      dead = 1;
    }
    busy = 0;
  };

  // ---- Proof of work: SHA256(plid || le32(n))[:16] == target, n <= max ----

  // SHA-256 constants: the first 32 bits of the fractional parts of the
  // square roots of the first 8 primes (H) and cube roots of the first 64 (K).
  const K = [], H = [];
  for (let c = 2, i = 0, d; i < 64; c++) {
    for (d = 2; c % d; d++);
    if (d == c) {
      if (i < 8) H[i] = ((c ** 0.5 % 1) * 2 ** 32) | 0;
      K[i++] = ((Math.cbrt(c) % 1) * 2 ** 32) | 0;
    }
  }
  const rot = (x, n) => (x >>> n) | (x << (32 - n));
  // words parses hex into 32-bit words ('0x' + 8 hex digits, made signed by | 0).
  const words = (hex) => hex.match(/.{8}/g).map((w) => '0x' + w | 0);

  // hit hashes the one 20-byte block plid || le32(n) and compares the first
  // 16 bytes of the digest with the target. W is the message schedule: the
  // plid's four words, n's word (set here), then SHA-256 padding for 160
  // bits; hit fills in the rest.
  const hit = (W, t, n) => {
    // Plain locals and no allocation: this runs before the JIT has warmed
    // up, where destructuring and fresh arrays cost more than the hashing.
    let a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7], i = 0, x, y;
    for (W[4] = ((n & 255) << 24) | ((n & 65280) << 8) | ((n >> 8) & 65280) | (n >>> 24); i < 64; i++) {
      x = W[i - 15];
      y = W[i - 2];
      if (i > 15) W[i] = (rot(x, 7) ^ rot(x, 18) ^ (x >>> 3)) + (rot(y, 17) ^ rot(y, 19) ^ (y >>> 10)) + W[i - 7] + W[i - 16] | 0;
      x = h + (rot(e, 6) ^ rot(e, 11) ^ rot(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + W[i] | 0;
      y = (rot(a, 2) ^ rot(a, 13) ^ rot(a, 22)) + ((a & b) ^ (a & c) ^ (b & c)) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + x) | 0;
      d = c;
      c = b;
      b = a;
      a = (x + y) | 0;
    }
    return [a, b, c, d].every((v, i) => ((H[i] + v) | 0) == t[i]);
  };

  // solve searches n = 0, 1, ... max in slices of about SLICE_MS, with a
  // setTimeout between slices so the page renders and handles input;
  // solveMs is the time spent hashing.
  const solve = async (p, t, max, n = 0, ms = 0, s) => {
    while (n <= max) {
      s = perf.now();
      do {
        if (hit(p, t, n)) return (solveMs = Math.round(ms + perf.now() - s)), n;
      } while (++n <= max && (n & 63 || perf.now() - s < SLICE_MS));
      ms += perf.now() - s;
      await new Promise((ok) => setTimeout(ok));
    }
    return -1;
  };

  // observe calls fn for every entry of a supported performance entry type,
  // including those buffered before the snippet ran; true when supported.
  // durationThreshold (for "event" only) is the lowest allowed, 16 ms, so a
  // page whose interactions are all quick still reports an INP.
  const observe = (type, fn, P = win.PerformanceObserver) =>
    P && (P.supportedEntryTypes || []).includes(type) &&
    !new P(safe((list) => list.getEntries().forEach(fn))).observe({ type, buffered: true, durationThreshold: 16 });

  const run = () => {
    win.verity = safe(track);
    origin = new URL(tag.src).origin;
    landing = page();
    current = doc.referrer;
    challenge();
    navigated(); // also starts the visible-time clock (seen)
    vital('TTFB', (perf.getEntriesByType('navigation')[0] || {}).responseStart);
    for (const a of (stub && stub.q) || []) win.verity(...a);

    on('visibilitychange', () => (doc.hidden ? hide() : (seen = now())));
    on('pagehide', hide);
    on('scroll', scrolled);
    on('click', clicked);
    on('popstate', navigated);
    const moved = safe(navigated);
    for (const m of ['pushState', 'replaceState']) {
      const orig = history[m];
      history[m] = function (...a) {
        a = orig.apply(this, a);
        moved();
        return a;
      };
    }

    observe('largest-contentful-paint', (e) => (lcp = e.startTime));
    // FCP: the 'first-contentful-paint' entry ('first-paint' has a 'p' at 6),
    // sent as soon as it is observed (at start when it came first).
    observe('paint', (e) => e.name[6] == 'c' && vital('FCP', e.startTime));
    // CLS: the sum of layout shifts without recent input until first hidden.
    if (observe('layout-shift', (e) => e.hadRecentInput || (cls += e.value))) cls = 0;
    // INP, simplified: the slowest interaction (exact below 50 interactions);
    // none when there was no interaction of 16 ms or more.
    observe('event', (e) => e.interactionId && (inp = Math.max(inp || 0, e.duration)));
    // Permission states that disagree: Chromium's old headless mode denies
    // notifications while the Permissions API still says "prompt" (the new
    // one answers like a browser never asked: "promptdefault"). Last:
    // browsers without the API throw here, after everything else is set up;
    // without Notification (iOS Safari) perm stays unset.
    nav.permissions.query({ name: 'notifications' }).then(safe((p) => (perm = p.state + Notification.permission)), safe);

  };

  // Start: decide whether to run at all, and say why not once.
  try {
    site = attr('site');
    hashMode = flag('hash');
    const why = !site ? 'no data-site'
      : attr('disabled') != null || win.verityOptOut ? 'disabled'
      : flag('respect-dnt') && ((nav.doNotTrack || win.doNotTrack) == 1 || nav.globalPrivacyControl) ? 'DNT/GPC'
      : !flag('localhost') && /^(127\.|\[::1\]|$)|(^|\.)localhost$/.test(loc.hostname) ? 'localhost'
      : '';
    if (why) {
      win.verity = () => {};
      console.info('Verity: off: ' + why);
    } else if (doc.prerendering) {
      console.info('Verity: prerendering');
      on('prerenderingchange', run); // fires once, at the document
    } else run();
  } catch (e) {}
})();
