// Package views holds the dashboard's templ components and its static files.
// Components take typed view models built by the handlers in package
// dashboard and never query anything; only package dashboard imports it.
// The *_templ.go files are generated (go tool templ generate) and committed.
package views

//go:generate ./vendor-htmx.sh
