package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ordersaga/ordersaga/internal/localstack"
)

// The gateway's own figures for the closing note and README: order(id) latency, and the
// service calls a query makes with the per-request batching loader and without it (a
// second gateway, started with --no-batch). Latencies are logged, not asserted. Call counts
// are asserted where they do not depend on timing: without batching, and a repeated order.
var _ = Describe("Gateway latency and service calls", Label("e2e", "measure"), func() {
	It("measures order(id) and counts the service calls per query, with the loader and without", func(ctx SpecContext) {
		if stack == nil || stack.GatewayURL == "" {
			Skip("needs the local stack's gateway")
		}
		id := uniqueSuffix()
		product, customer := "E2E-GWM-"+strings.ToUpper(id), "cust-gwm-"+id
		setProduct(ctx, product, "2.00", 100)
		names := make([]string, 0, 5)
		for i := range 5 {
			placed := gql(ctx, stack.ShopToken, placeOrderMutation, map[string]any{"input": orderInput(customer, product, 1), "key": fmt.Sprintf("m-%s-%d", id, i)})
			placed.expectOK()
			names = append(names, placed.str("placeOrder", "order", "id"))
		}
		Eventually(func() any {
			return gql(ctx, stack.ShopToken, ordersQuery, map[string]any{"customer": customer, "phase": "Completed"}).get("orders", "totalCount")
		}).WithContext(ctx).WithTimeout(60 * time.Second).Should(BeNumerically("==", 5))

		By("order(id), the whole aggregated view, 300 times on each of two gateways, alternately")
		// Two gateways of their own, without authentication, so that the only difference is
		// the loader: batched, and every field by ID.
		batched, plain := startGateway(ctx), startGateway(ctx, "--no-batch")
		took := map[string][]time.Duration{}
		for i := range 600 {
			url := map[bool]string{true: batched, false: plain}[i%2 == 0]
			begin := time.Now()
			gqlAt(ctx, url, "", orderQuery, map[string]any{"id": names[(i/2)%len(names)]}).expectOK()
			took[url] = append(took[url], time.Since(begin))
		}
		p50, p99 := map[string]time.Duration{}, map[string]time.Duration{}
		for url, d := range took {
			slices.Sort(d)
			p50[url], p99[url] = d[len(d)/2], d[len(d)*99/100]
		}
		line := fmt.Sprintf("order(id) over HTTP, 300 sequential queries each: batched p50 %s p99 %s; by ID p50 %s p99 %s; batched/by-ID p50 %.2f",
			p50[batched].Round(10*time.Microsecond), p99[batched].Round(10*time.Microsecond),
			p50[plain].Round(10*time.Microsecond), p99[plain].Round(10*time.Microsecond), float64(p50[batched])/float64(p50[plain]))
		GinkgoWriter.Println(line)
		AddReportEntry("gateway order(id) latency", line)

		By("counting the service calls of three queries, on both gateways")
		queries := map[string]struct {
			query       string
			vars        map[string]any
			with, wthut int
		}{
			// Two components of one page asking for the same order: it is read once.
			"one order, asked twice": {`query($id: ID!) { a: order(id: $id) { record { status } payment { status } shipment { status } notices { type } }
				b: order(id: $id) { record { total } payment { amount } shipment { carrier } notices { status } } }`, map[string]any{"id": names[0]}, 4, 8},
			"one order": {orderQuery, map[string]any{"id": names[0]}, 4, 4},
			// A page of five orders: one orderIds call per service, instead of 4 × 5 reads
			// by ID (a late goroutine may open a second batch, so only "fewer" is asserted).
			"a page of five orders": {`query($c: String) { orders(customerId: $c, first: 5) { edges { node { record { status } payment { status } shipment { status } notices { type } } } } }`,
				map[string]any{"c": customer}, 0, 20},
		}
		for name, q := range queries {
			with := backendCalls(ctx, batched, func() { gqlAt(ctx, batched, "", q.query, q.vars).expectOK() })
			without := backendCalls(ctx, plain, func() { gqlAt(ctx, plain, "", q.query, q.vars).expectOK() })
			line := fmt.Sprintf("%s: %d service calls with the loader, %d without", name, with, without)
			GinkgoWriter.Println(line)
			AddReportEntry("gateway service calls: "+name, line)
			Expect(without).To(Equal(q.wthut), name)
			if q.with > 0 {
				Expect(with).To(Equal(q.with), name)
			} else {
				Expect(with).To(BeNumerically("<", without), name)
			}
		}
	}, SpecTimeout(3*time.Minute))
})

// startGateway starts another gateway on the stack, without authentication, with extra
// flags; it stops with the spec.
func startGateway(ctx context.Context, extra ...string) string {
	GinkgoHelper()
	local, ok := sys.(*localSystem)
	Expect(ok).To(BeTrue())
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	addr := ln.Addr().String()
	Expect(ln.Close()).To(Succeed())
	urls := make([]string, 0, len(services))
	for _, s := range services {
		urls = append(urls, s+"="+stack.URLs[s])
	}
	args := append([]string{"--listen-address=" + addr, "--insecure-no-auth", "--default-namespace=" + localstack.ShopNamespace,
		"--service-urls=" + strings.Join(urls, ",")}, extra...)
	// Not CommandContext: the process must outlive the spec's body until DeferCleanup.
	cmd := exec.Command(filepath.Join(local.stateDir, "bin", "gateway"), args...) //nolint:noctx // the stack's own binary
	cmd.Env = append(os.Environ(), "KUBECONFIG="+stack.Kubeconfig)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	Expect(cmd.Start()).To(Succeed())
	DeferCleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if CurrentSpecReport().Failed() {
			GinkgoWriter.Printf("second gateway's log:\n%s\n", log.String())
		}
	})
	url := "http://" + addr
	Eventually(func() int {
		resp, err := http.Get(url + "/readyz") //nolint:noctx // a probe
		if err != nil {
			return 0
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}).WithContext(ctx).WithTimeout(30 * time.Second).Should(Equal(http.StatusOK))
	return url
}

// backendCalls is how many service calls the gateway at url made while do ran.
func backendCalls(ctx context.Context, url string, do func()) int {
	GinkgoHelper()
	before := gatewayCalls(ctx, url)
	do()
	return gatewayCalls(ctx, url) - before
}

func gatewayCalls(ctx context.Context, url string) int {
	GinkgoHelper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/metrics", nil)
	Expect(err).NotTo(HaveOccurred())
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	total := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, "ordersaga_gateway_backend_requests_total{") {
			continue
		}
		var v float64
		_, err := fmt.Sscan(l[strings.LastIndexByte(l, ' ')+1:], &v)
		Expect(err).NotTo(HaveOccurred())
		total += v
	}
	return int(total)
}
