package main

// The site's public key in the tag; the stub accepts any.
const siteKey = "pk_7kq2m4x9c3v5b8n6d1f0g2h4j5"

// The URLs the capture visits.
const (
	referrerURL = "http://" + referrerHost + "/"
	pricingURL  = "http://" + siteHost + "/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=spring"
	docsURL     = "http://" + siteHost + "/docs"
)

// markBeacons makes the page's sendBeacon add ?beacon to the URL (the
// snippet never sends a query; the body stays as it is), so the stub can
// tell which batches went that way: on plain http, Chromium sends no
// Sec-Fetch-Mode, and a beacon sent while the page unloads reaches no
// DevTools listener.
const markBeacons = `<script>(function (send) {
  navigator.sendBeacon = function (url, data) { return send.call(navigator, url + '?beacon', data); };
})(navigator.sendBeacon);</script>`

const snippetTag = markBeacons + `
<script defer src="http://` + collectorHost + `/s/v1.js" data-site="` + siteKey + `"></script>`

// noNavigation keeps link clicks on the page (the snippet has seen them by
// then: it listens on window in the capture phase), so every action of a
// page load happens under one token.
const noNavigation = `<script>document.addEventListener('click', function (e) { if (e.target.closest('a')) e.preventDefault(); });</script>`

// pages are the test pages by "host/path". The pricing page passes every
// DOM check but one (an image without alt); the blog page links to it, so
// its pageview has a referrer. The pages are taller than the window, so the
// scroll depth is below 100 without scrolling.
var pages = map[string]string{
	referrerHost + "/": `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Blog</title></head>
<body><a id="pricing" href="` + pricingURL + `">Our pricing</a></body></html>`,

	siteHost + "/pricing": `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pricing – Example</title>
<meta name="description" content="Plans and prices for Example: start free, upgrade when your team grows.">
<link rel="canonical" href="http://` + siteHost + `/pricing">
` + snippetTag + `
</head><body>
<h1>Pricing</h1>
<p>Start free, upgrade when your team grows.</p>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="200" height="100">
<p><a id="outbound" href="https://docs.github.com/en/get-started">Getting started with GitHub</a></p>
<div style="height: 700px"></div>
` + noNavigation + `
<script>
// A click that keeps the main thread busy for 60 ms, so the page has an
// interaction over INP's 16 ms threshold however fast the machine is.
document.getElementById('outbound').addEventListener('click', function () {
  for (var end = performance.now() + 60; performance.now() < end;);
});
</script>
</body></html>`,

	siteHost + "/docs": `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Docs – Example</title>
` + snippetTag + `
</head><body>
<h1>Docs</h1>
<p><a id="whitepaper" href="/files/whitepaper.pdf">The whitepaper (PDF)</a></p>
<p><button id="trial" data-verity-event="Start trial" data-verity-prop-plan="team" data-verity-prop-placement="docs-hero">Start a trial</button></p>
` + noNavigation + `
</body></html>`,
}
