package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/localstack"
)

// The dashboard in a real browser, signed in as the shop front end: the only namespace its
// token may use is localstack.ShopNamespace, so these specs share it and keep apart by
// customer, product and saga names of their own.
var _ = Describe("The dashboard", Label("e2e", "dashboard"), func() {
	BeforeEach(func() {
		if stack == nil || stack.GatewayURL == "" || stack.ShopToken == "" {
			Skip("needs the local stack's gateway and the shop front end's token")
		}
		specNamespaces = append(specNamespaces, localstack.ShopNamespace)
	})

	It("places an order through the form, opens its page, and shows it reach Completed live", func(ctx SpecContext) {
		id := uniqueSuffix()
		product, customer := "E2E-DASH-"+strings.ToUpper(id), "cust-dash-"+id
		setProduct(ctx, product, "12.50", 10)
		// The shipment takes 4 s, so that the saga is still running when its page opens.
		setFaults(ctx, "shipping", faults{Latency: "4s", Routes: []string{"PUT /v1/shipments/{shipmentId}"}})

		b := newBrowser(ctx)
		list := b.newTab("the list")
		signIn(list)
		list.do("filter the list by the new customer", chromedp.Navigate(stack.GatewayURL+"/?customer="+url.QueryEscape(customer)))
		list.waitFor("the empty list", `/^No orders/.test(document.getElementById('list-summary').textContent)`, 20*time.Second)
		list.waitFor("live updates", `document.getElementById('conn').textContent.endsWith('Live')`, 20*time.Second)
		list.do("mark the list page", chromedp.Evaluate[chromedp.Void](`window.e2eMarker = 'list'`))

		signIn(b)
		name := placeOrder(b, customer, product, "2")
		Expect(b.text("phase")).NotTo(Equal(string(v1.PhaseCompleted)), "the saga is still running when its page opens")
		b.do("mark the order page", chromedp.Evaluate[chromedp.Void](`window.e2eMarker = 'order'`))

		b.waitFor("Completed, live", phaseIs(v1.PhaseCompleted), 60*time.Second)
		Expect(eval[string](b, `window.e2eMarker`)).To(Equal("order"), "the page never reloaded")
		Expect(b.text("status")).To(ContainSubstring("is now Completed"), "the live region said so")
		b.waitFor("the services' view", `document.querySelector('[data-service=shipment]').textContent.includes('SCHEDULED')`, 20*time.Second)
		Expect(b.text("order-view")).To(And(ContainSubstring("CONFIRMED"), ContainSubstring("CAPTURED"), ContainSubstring("25.00 USD")))
		expectTimeline(b, getSaga(ctx, localstack.ShopNamespace, name))
		Expect(eval[bool](b, `document.getElementById('retry').disabled`)).To(BeTrue(), "a Completed order cannot be retried")
		Expect(eval[bool](b, `document.getElementById('cancel').hidden`)).To(BeTrue(), "a Completed order cannot be cancelled")
		b.screenshot("dashboard-order-completed")

		list.waitFor("the new order in the list, Completed", fmt.Sprintf(
			`(document.querySelector('tr[data-id=%q] .badge') || {}).textContent === 'Completed'`, name), 30*time.Second)
		Expect(eval[string](list, `window.e2eMarker`)).To(Equal("list"), "the list never reloaded")
		Expect(list.text("orders-body")).To(ContainSubstring(customer))
		Expect(b.text("order-view")).To(ContainSubstring("No events"), "a saga that went straight through records no Event")
		b.expectNoExceptions()
		list.expectNoExceptions()
	}, SpecTimeout(3*time.Minute))

	It("shows a compensated saga's timeline: the compensated steps and the reason", func(ctx SpecContext) {
		id := uniqueSuffix()
		product, name := "E2E-DASH-DCL-"+strings.ToUpper(id), "dash-declined-"+id
		setProduct(ctx, product, "2000.00", 10)
		applySagas(ctx, localstack.ShopNamespace, saga(name, product, 3, "2000.00")) // 6000.00 > the 5000.00 limit
		s := waitRolledBack(ctx, localstack.ShopNamespace, name, v1.ReasonPaymentDeclined)

		b := newBrowser(ctx)
		signIn(b)
		openOrder(b, name)
		b.waitFor("Compensated", phaseIs(v1.PhaseCompensated), 20*time.Second)
		expectTimeline(b, s)
		rows := timeline(b)
		for _, step := range []v1.StepName{v1.StepCreateOrder, v1.StepReserveInventory} {
			Expect(rows).To(ContainElement(timelineRow{Compensation: string(step), State: string(v1.CallSucceeded)}.matcher()),
				"%s was undone", step)
		}
		Expect(b.text("saga-failure")).To(And(ContainSubstring(string(v1.StepProcessPayment)),
			ContainSubstring(v1.ReasonPaymentDeclined), ContainSubstring("above the per-order limit")))
		Expect(b.text("saga-message")).To(ContainSubstring("rolled back"))
		b.waitFor("the Events", `document.querySelectorAll('#events-title + .table-wrap tbody tr').length > 0`, 20*time.Second)
		Expect(b.text("order-view")).To(ContainSubstring("CANCELLED"), "the order record says cancelled")
		Expect(eval[bool](b, `document.getElementById('retry').disabled`)).To(BeTrue())
		b.screenshot("dashboard-order-compensated")

		By("the order service down, the page still shows the saga and says what is unavailable")
		sys.crash(ctx, "order")
		DeferCleanup(func(ctx SpecContext) { sys.bringBack(ctx, "order") })
		openOrder(b, name)
		b.waitFor("the order record unavailable", `document.querySelector('[data-service=record] .unavailable') !== null`, 20*time.Second)
		Expect(eval[string](b, `document.querySelector('[data-service=record]').textContent`)).To(ContainSubstring("Unavailable"))
		expectTimeline(b, s)
		Expect(b.text("saga-failure")).To(ContainSubstring(v1.ReasonPaymentDeclined))
		b.screenshot("dashboard-order-service-down")
		b.expectNoExceptions()
	}, SpecTimeout(2*time.Minute))

	It("re-drives a Failed saga with the Retry button and shows it reach Compensated live", func(ctx SpecContext) {
		id := uniqueSuffix()
		product, name := "E2E-DASH-RDR-"+strings.ToUpper(id), "dash-redrive-"+id
		setProduct(ctx, product, "20.00", 10)
		setFaults(ctx, "payment", faults{ErrorRate: 1, Routes: []string{refundRoute}})
		DeferCleanup(func(ctx SpecContext) { // leave no Failed saga for the suite's last check
			allFaultsOff(ctx)
			_, _, _ = sagactl(ctx, "retry", name, "-n", localstack.ShopNamespace, "--wait", "30s")
		})
		sg := saga(name, product, 2, "20.00")
		sg.country = "AQ" // refused after the capture: the refund is needed, and fails
		sg.retry = retry{maxAttempts: 2, initialBackoff: "100ms", maxBackoff: "200ms"}
		applySagas(ctx, localstack.ShopNamespace, sg)
		kubectlOK(ctx, "wait", "--for=condition=Succeeded=False", "osaga/"+name, "-n", localstack.ShopNamespace, "--timeout=60s")
		Expect(getSaga(ctx, localstack.ShopNamespace, name).Status.Phase).To(Equal(v1.PhaseFailed))

		b := newBrowser(ctx)
		signIn(b)
		openOrder(b, name)
		b.waitFor("Failed", phaseIs(v1.PhaseFailed), 20*time.Second)
		b.waitFor("Retry enabled", `!document.getElementById('retry').disabled`, 10*time.Second)
		Expect(eval[bool](b, `document.getElementById('cancel').hidden`)).To(BeTrue(), "a Failed order cannot be cancelled")
		Expect(timeline(b)).To(ContainElement(timelineRow{Compensation: string(v1.StepProcessPayment), State: string(v1.CallFailed)}.matcher()),
			"the refund failed")
		b.screenshot("dashboard-order-failed")
		b.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.e2eMarker = 'failed'`))

		By("the gateway restarted, the page reconnects and subscribes again")
		DeferCleanup(func(ctx SpecContext) { Expect(stack.StartGateway(ctx)).To(Succeed()) })
		before, err := os.ReadFile(stack.PIDFile("gateway"))
		Expect(err).NotTo(HaveOccurred())
		stack.KillProcess("gateway")
		b.waitFor("the page to see the socket drop", `!document.getElementById('conn').textContent.endsWith(': Live')`, 20*time.Second)
		Expect(stack.StartGateway(ctx)).To(Succeed())
		after, err := os.ReadFile(stack.PIDFile("gateway"))
		Expect(err).NotTo(HaveOccurred())
		Expect(after).NotTo(Equal(before), "a new gateway process")
		b.waitFor("live again", `document.getElementById('conn').textContent.endsWith(': Live')`, 45*time.Second)

		allFaultsOff(ctx)
		b.do("click Retry", chromedp.Click(chromedp.ID("retry")))
		b.waitFor("Compensated, live", phaseIs(v1.PhaseCompensated), 60*time.Second)
		Expect(eval[string](b, `window.e2eMarker`)).To(Equal("failed"), "the page never reloaded")
		Expect(b.text("order-alert")).To(BeEmpty(), "the retry was accepted")
		Expect(timeline(b)).To(ContainElement(timelineRow{Compensation: string(v1.StepProcessPayment), State: string(v1.CallSucceeded)}.matcher()),
			"the refund went through")
		b.waitFor("Retry disabled again", `document.getElementById('retry').disabled`, 10*time.Second)
		expectTimeline(b, getSaga(ctx, localstack.ShopNamespace, name))
		b.expectNoExceptions()
	}, SpecTimeout(3*time.Minute))

	It("cancels an order in flight with Cancel order: it rolls back live, and the page says when it is gone", func(ctx SpecContext) {
		id := uniqueSuffix()
		product, name := "E2E-DASH-CNL-"+strings.ToUpper(id), "dash-cancel-"+id
		setProduct(ctx, product, "15.00", 10)
		// The payment service refuses every capture for now: the saga retries before its
		// pivot, so it can be cancelled.
		setFaults(ctx, "payment", faults{ErrorRate: 1, Routes: []string{"PUT /v1/payments/{paymentId}"}})
		DeferCleanup(allFaultsOff)
		sg := saga(name, product, 1, "15.00")
		sg.retry = retry{maxAttempts: 30, initialBackoff: "1s", maxBackoff: "2s"}
		applySagas(ctx, localstack.ShopNamespace, sg)

		b := newBrowser(ctx)
		signIn(b)
		b.do("list the orders retrying now", chromedp.Navigate(stack.GatewayURL+"/?retrying=1"))
		b.waitFor("the retrying order in the list", fmt.Sprintf(`document.querySelector('tr[data-id=%q]') !== null`, name), 30*time.Second)
		Expect(eval[string](b, fmt.Sprintf(`document.querySelector('tr[data-id=%q]').textContent`, name))).To(ContainSubstring("next"), "its next attempt")
		openOrder(b, name)
		b.waitFor("Cancel order offered", `!document.getElementById('cancel').hidden`, 20*time.Second)
		Expect(b.text("order-view")).To(ContainSubstring("FAULT_INJECTED"), "the timeline shows why it retries")
		b.screenshot("dashboard-order-retrying")
		b.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.e2eMarker = 'cancel'`))

		b.do("ask to cancel", chromedp.Click(chromedp.ID("cancel")))
		b.waitFor("the confirmation", `!document.getElementById('cancel-confirm').hidden`, 5*time.Second)
		b.do("confirm", chromedp.Click(chromedp.ID("cancel-yes")))
		b.waitFor("the saga gone", `document.getElementById('order-alert').textContent.includes('This saga is gone')`, 60*time.Second)
		Expect(eval[string](b, `window.e2eMarker`)).To(Equal("cancel"), "the page never reloaded")
		Expect(eval[bool](b, `document.getElementById('cancel').hidden`)).To(BeTrue())
		Eventually(ctx, func() int { return stockOf(ctx, product) }).WithTimeout(10*time.Second).Should(Equal(10), "stock restored")
		_, errOut, err := kubectl(ctx, "get", "osaga", name, "-n", localstack.ShopNamespace)
		Expect(err).To(HaveOccurred())
		Expect(errOut).To(ContainSubstring("NotFound"))
		b.expectNoExceptions()
	}, SpecTimeout(2*time.Minute))

	// The last spec, so that its list holds the other specs' orders too (containers run
	// in random order, the specs of one in order).
	It("lists the orders newest first with their counts, 50 to a page, and filters them by phase", func(ctx SpecContext) {
		id := uniqueSuffix()
		product := "E2E-DASH-LST-" + strings.ToUpper(id)
		setProduct(ctx, product, "5.00", 200)
		sagas := withFailures(many(55, "dash-list-"+id, product, 1, "5.00", quickRetry), 2, 3)
		applySagas(ctx, localstack.ShopNamespace, sagas...)
		names := make([]string, 0, len(sagas)+4)
		for _, sg := range sagas {
			names = append(names, "osaga/"+sg.name)
		}
		kubectlOK(ctx, append([]string{"wait", "--for=condition=Ready", "-n", localstack.ShopNamespace, "--timeout=90s"}, names...)...)
		var want map[string]v1.Phase
		Eventually(ctx, func(g Gomega) { // other specs' orders share the namespace
			m, err := phases(ctx, localstack.ShopNamespace)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(countTerminal(m)).To(Equal(len(m)), "every order of the namespace has ended: %v", summarize(m))
			want = m
		}).WithTimeout(60 * time.Second).WithPolling(time.Second).Should(Succeed())
		total := len(want)

		b := newBrowser(ctx)
		signIn(b)
		b.waitFor("the counts", `document.querySelectorAll('#counts li').length === 7`, 20*time.Second)
		counts := eval[map[string]int](b, `Object.fromEntries([...document.querySelectorAll('#counts a')].map((a) =>
			[a.firstChild.textContent, Number(a.querySelector('.count').textContent.replace(/,/g, ''))]))`)
		wantCounts := map[string]int{"All": total}
		for _, p := range []v1.Phase{v1.PhasePending, v1.PhaseRunning, v1.PhaseCompleted, v1.PhaseCompensating, v1.PhaseCompensated, v1.PhaseFailed} {
			wantCounts[string(p)] = summarize(want)[p]
		}
		Expect(counts).To(Equal(wantCounts), "the badges count what kubectl shows")
		Expect(eval[int](b, `document.querySelectorAll('#orders-body tr').length`)).To(Equal(50), "a page holds 50 orders")
		Expect(b.text("list-summary")).To(HavePrefix(fmt.Sprintf("Orders 1–50 of %d", total)))
		Expect(eval[bool](b, `document.getElementById('next-page').disabled`)).To(BeFalse())
		b.screenshot("dashboard-list")

		b.do("next page", chromedp.Click(chromedp.ID("next-page")))
		b.waitFor("the second page", fmt.Sprintf(`document.getElementById('list-summary').textContent.startsWith('Orders 51–%d of %d')`, min(total, 100), total), 20*time.Second)
		Expect(eval[int](b, `document.querySelectorAll('#orders-body tr').length`)).To(Equal(min(total-50, 50)))
		Expect(eval[bool](b, `document.getElementById('next-page').disabled`)).To(Equal(total <= 100), "the last page")
		Expect(eval[bool](b, `document.getElementById('prev-page').disabled`)).To(BeFalse())
		Expect(eval[string](b, `location.search`)).To(ContainSubstring("after="), "the page is in the URL")

		b.do("filter Compensated", chromedp.SetValue(chromedp.ID("f-phase"), string(v1.PhaseCompensated)),
			chromedp.Click(chromedp.CSS(`#filters button[type=submit]`)))
		compensated := summarize(want)[v1.PhaseCompensated]
		b.waitFor("the Compensated orders", fmt.Sprintf(`document.querySelectorAll('#orders-body tr').length === %d`, min(compensated, 50)), 20*time.Second)
		Expect(eval[[]string](b, `[...document.querySelectorAll('#orders-body tr .badge')].map((e) => e.textContent)`)).To(HaveEach(string(v1.PhaseCompensated)))
		Expect(eval[string](b, `location.search`)).To(ContainSubstring("phase=Compensated"))
		b.expectNoExceptions()
	}, SpecTimeout(3*time.Minute))
})

// uniqueSuffix keeps a spec's names apart from every other run's in the shared namespace.
func uniqueSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func phaseIs(p v1.Phase) string {
	return fmt.Sprintf(`(document.getElementById('phase') || {}).textContent === %q`, string(p))
}

// signIn opens the dashboard, which asks for a token (the API answers UNAUTHENTICATED
// without one), and signs in with the shop front end's token.
func signIn(b *browser) {
	GinkgoHelper()
	b.do("open the dashboard", chromedp.Navigate(stack.GatewayURL+"/"))
	b.waitFor("the sign-in form", `!document.getElementById('sign-in').hidden`, 20*time.Second)
	Expect(b.text("sign-in")).To(ContainSubstring("ServiceAccount token"))
	Expect(eval[string](b, `document.querySelector('label[for=token]').textContent`)).To(Equal("ServiceAccount token"))
	b.do("sign in", chromedp.SetValue(chromedp.ID("token"), stack.ShopToken),
		chromedp.Click(chromedp.CSS(`#sign-in-form button[type=submit]`)))
	b.waitFor("the list, signed in", `document.getElementById('sign-in').hidden && `+
		`/^(Orders|No orders)/.test(document.getElementById('list-summary').textContent)`, 20*time.Second)
	Expect(eval[string](b, `sessionStorage.getItem('ordersaga.token')`)).To(Equal(stack.ShopToken))
}

// placeOrder fills the form with one line of product, first with a quantity and a country
// that the gateway refuses, whose errors must show next to their fields, then with
// quantity and GB; it returns the name of the saga whose page the browser lands on.
func placeOrder(b *browser, customer, product, quantity string) string {
	GinkgoHelper()
	b.do("open the form", chromedp.Navigate(stack.GatewayURL+"/new"))
	b.waitFor("the product in the picker", fmt.Sprintf(`document.querySelector('#item-0-productId option[value=%q]') !== null`, product), 20*time.Second)
	b.do("fill the form",
		chromedp.SendKeys(chromedp.ID("customerId"), customer),
		chromedp.SetValue(chromedp.ID("item-0-productId"), product),
		chromedp.SetValue(chromedp.ID("item-0-quantity"), "5000"), // above the gateway's 1000
		chromedp.SetValue(chromedp.ID("paymentMethod"), "CREDIT_CARD"),
		chromedp.SetValue(chromedp.ID("shippingMethod"), "STANDARD"),
		chromedp.SendKeys(chromedp.ID("addrName"), "Ada Lovelace"),
		chromedp.SendKeys(chromedp.ID("addrLine1"), "12 Example Street"),
		chromedp.SendKeys(chromedp.ID("addrCity"), "London"),
		chromedp.SendKeys(chromedp.ID("addrPostalCode"), "N1 9GU"),
		chromedp.SendKeys(chromedp.ID("addrCountry"), "G1"), // not two letters
		chromedp.Click(chromedp.ID("place-order")))
	b.waitFor("the refusal", `!document.getElementById('form-errors').hidden`, 20*time.Second)
	for field, message := range map[string]string{"item-0-quantity": "must be between 1 and 1000", "addrCountry": "two capital letters"} {
		Expect(eval[string](b, fmt.Sprintf(`document.getElementById(%q).getAttribute('aria-invalid')`, field))).To(Equal("true"), field)
		Expect(eval[string](b, fmt.Sprintf(`document.getElementById(%q).getAttribute('aria-describedby')`, field))).To(ContainSubstring(field + "-error"))
		Expect(b.text(field+"-error")).To(ContainSubstring(message), "the error next to %s", field)
	}
	Expect(b.text("form-errors")).To(ContainSubstring("The order was not placed"))
	Expect(eval[string](b, `location.pathname`)).To(Equal("/new"), "nothing was placed")

	b.do("correct the form",
		chromedp.SetValue(chromedp.ID("item-0-quantity"), quantity),
		chromedp.SetValue(chromedp.ID("addrCountry"), "GB"),
		chromedp.Click(chromedp.ID("place-order")))
	prefix := "/orders/" + localstack.ShopNamespace + "/"
	b.waitFor("the saga's page", fmt.Sprintf(`location.pathname.startsWith(%q) && !document.getElementById('phase').hidden`, prefix), 30*time.Second)
	path := eval[string](b, `location.pathname`)
	return strings.TrimPrefix(path, prefix)
}

// openOrder opens the page of a saga in the shop's namespace and waits for its phase.
func openOrder(b *browser, name string) {
	GinkgoHelper()
	b.do("open "+name, chromedp.Navigate(stack.GatewayURL+"/orders/"+localstack.ShopNamespace+"/"+name))
	b.waitFor("the order", `!document.getElementById('phase').hidden`, 20*time.Second)
}

// timelineRow is a line of the saga page's timeline: a step's (Step set) or a
// compensation's (Compensation set to the step it undoes).
type timelineRow struct {
	Step         string `json:"step"`
	Compensation string `json:"compensation"`
	State        string `json:"state"`
	Attempts     string `json:"attempts"`
	LastError    string `json:"lastError"`
}

// matcher matches a row by its step or compensation and its state.
func (r timelineRow) matcher() OmegaMatcher {
	return And(HaveField("Step", r.Step), HaveField("Compensation", r.Compensation), HaveField("State", r.State))
}

func timeline(b *browser) []timelineRow {
	GinkgoHelper()
	return eval[[]timelineRow](b, `[...document.querySelectorAll('table.timeline tbody tr')].map((tr) => ({
		step: tr.dataset.step || '', compensation: tr.dataset.compensation || '', state: tr.cells[1].textContent,
		attempts: tr.cells[2].textContent, lastError: tr.cells[6].textContent }))`)
}

// expectTimeline checks that the page shows every step and compensation of the saga's
// status with its state and attempts, as sagactl describe does.
func expectTimeline(b *browser, s v1.OrderSaga) {
	GinkgoHelper()
	var want []timelineRow
	for _, st := range s.Status.Steps {
		want = append(want, timelineRow{Step: string(st.Name), State: string(st.State), Attempts: count(st.Attempts), LastError: st.LastError})
		if c := st.Compensation; c != nil {
			want = append(want, timelineRow{Compensation: string(st.Name), State: string(c.State), Attempts: count(c.Attempts), LastError: c.LastError})
		}
	}
	if n := s.Status.CancellationNotice; n != nil {
		want = append(want, timelineRow{Compensation: "cancellation notice", State: string(n.State), Attempts: count(n.Attempts), LastError: n.LastError})
	}
	Eventually(func() []timelineRow { return timeline(b) }).WithTimeout(10*time.Second).Should(Equal(want),
		"the timeline of %s as its status holds it", s.Name)
}

func count(n int32) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(int(n))
}
