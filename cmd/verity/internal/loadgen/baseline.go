package loadgen

import (
	"context"
	"net"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/verityhq/verity/collector/pageload"
)

// baselineBody is a 300-byte JSON POST, the size of a typical event batch
// without its signal blob.
var baselineBody = func() []byte {
	head := `{"token":"`
	tail := `","n":586,"solve_ms":23,"seq":1,"events":[{"type":"pageview","url":"https://www.example.com/pricing","title":"Pricing"}]}`
	return []byte(head + strings.Repeat("x", 300-len(head)-len(tail)) + tail)
}()

// noop serves the baseline: a Fiber app on loopback whose one handler
// answers a JSON POST with 202 and a small JSON body, doing nothing else.
// It is the ceiling of what any handler on this machine, with this client,
// can do; the collector's throughput is reported as a share of it.
func noop() (url string, stop func(), err error) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Post("/noop", func(c *fiber.Ctx) error {
		return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"accepted": 1})
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go func() { _ = app.Listener(l) }()
	return "http://" + l.Addr().String(), func() { _ = app.ShutdownWithTimeout(5 * time.Second) }, nil
}

var baselineHeaders = [][2]string{{"Content-Type", "text/plain;charset=UTF-8"}, {"Origin", "https://www.example.com"}}

func baselineStep(_ context.Context, w *worker, due time.Time) {
	status, answer, err := w.post("/noop", baselineHeaders, baselineBody)
	if err != nil {
		return
	}
	reason := ""
	if status != fiber.StatusAccepted {
		reason = pageload.ErrorCode(status, answer)
	}
	w.g.rec.observe("noop", time.Since(due), 0, reason)
}
