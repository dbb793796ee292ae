package e2e

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/gateway/graph"
	"github.com/ordersaga/ordersaga/internal/localstack"
)

// The GraphQL gateway, driven as a shop drives it: HTTP and WebSocket with a
// ServiceAccount's bearer token, against the real API server, manager and services.
var _ = Describe("The GraphQL gateway", Label("e2e", "gateway"), func() {
	var shop string // the shop front end's token
	BeforeEach(func() {
		if stack == nil || stack.GatewayURL == "" || stack.ShopToken == "" {
			Skip("needs the local stack's gateway and the shop front end's token")
		}
		shop = stack.ShopToken
		specNamespaces = append(specNamespaces, localstack.ShopNamespace)
	})

	It("places an order once per idempotency key, refuses bad input by field, and aggregates what the services know", func(ctx SpecContext) {
		id := uniqueSuffix()
		product, customer := "E2E-GW-"+strings.ToUpper(id), "cust-gw-"+id
		setProduct(ctx, product, "10.00", 10)
		input := orderInput(customer, product, 2)

		By("refusing bad input with the field named, before anything is written")
		bad := orderInput(customer, product, 0)
		bad["shipping"].(map[string]any)["address"].(map[string]any)["country"] = "Germany"
		resp := gql(ctx, shop, placeOrderMutation, map[string]any{"input": bad, "key": "bad-" + id})
		Expect(resp.fields("BAD_USER_INPUT")).To(ConsistOf("input.items[0].quantity", "input.shipping.address.country"))
		Expect(sagasOf(ctx, customer)).To(BeEmpty())

		By("placing it, then placing it again with the same key")
		first := gql(ctx, shop, placeOrderMutation, map[string]any{"input": input, "key": "key-" + id})
		first.expectOK()
		name := first.str("placeOrder", "order", "id")
		Expect(first.get("placeOrder", "created")).To(BeTrue())
		again := gql(ctx, shop, placeOrderMutation, map[string]any{"input": input, "key": "key-" + id})
		again.expectOK()
		Expect(again.str("placeOrder", "order", "id")).To(Equal(name))
		Expect(again.get("placeOrder", "created")).To(BeFalse())

		By("refusing the same key with another payload")
		reused := gql(ctx, shop, placeOrderMutation, map[string]any{"input": orderInput(customer, product, 3), "key": "key-" + id})
		Expect(reused.codes()).To(ConsistOf("IDEMPOTENCY_KEY_REUSED"))
		Expect(sagasOf(ctx, customer)).To(HaveLen(1), "one saga, however often the key was sent")

		By("aggregating the saga, the order, the payment, the shipment and the notices")
		var view *gqlResponse
		Eventually(func(g Gomega) {
			view = gql(ctx, shop, orderQuery, map[string]any{"id": name})
			g.Expect(view.errors).To(BeEmpty())
			g.Expect(view.str("order", "saga", "phase")).To(Equal("Completed"))
			g.Expect(view.get("order", "notices")).NotTo(BeEmpty())
		}).WithContext(ctx).WithTimeout(60 * time.Second).WithPolling(500 * time.Millisecond).Should(Succeed())
		Expect(view.str("order", "record", "status")).To(Equal("CONFIRMED"))
		Expect(view.str("order", "payment", "status")).To(Equal("CAPTURED"))
		Expect(view.str("order", "payment", "amount")).To(Equal("20.00"))
		Expect(view.str("order", "shipment", "status")).To(Equal("SCHEDULED"))
		Expect(view.str("order", "shipment", "carrier")).NotTo(BeEmpty())
		Expect(view.str("order", "shipment", "trackingNumber")).NotTo(BeEmpty())
		Expect(view.str("order", "shipment", "estimatedDelivery")).NotTo(BeEmpty())
		Expect(view.get("order", "notices")).To(ContainElement(HaveKeyWithValue("type", "ORDER_CONFIRMED")))
		Expect(view.get("order", "saga", "steps")).To(HaveLen(6))
		Expect(view.get("order", "events")).To(BeEmpty(), "a saga that went straight through records no Event")

		By("refusing to cancel it: the pivot has passed")
		cancel := gql(ctx, shop, cancelMutation, map[string]any{"id": name})
		Expect(cancel.codes()).To(ConsistOf("ALREADY_CONFIRMED"))
		Expect(getSaga(ctx, localstack.ShopNamespace, name).DeletionTimestamp).To(BeNil())

		By("serving the catalog")
		products := gql(ctx, shop, `{ products { id name price stock } }`, nil)
		products.expectOK()
		Expect(products.get("products")).To(ContainElement(And(HaveKeyWithValue("id", product), HaveKeyWithValue("stock", BeNumerically("==", 8)))))
	}, SpecTimeout(2*time.Minute))

	It("cancels an order in flight, which rolls back", func(ctx SpecContext) {
		id := uniqueSuffix()
		product, customer := "E2E-GW-"+strings.ToUpper(id), "cust-gw-"+id
		setProduct(ctx, product, "5.00", 10)
		// The shipment takes 3 s: the saga waits before its pivot long enough to be cancelled.
		setFaults(ctx, "shipping", faults{Latency: "3s", Routes: []string{"PUT /v1/shipments/{shipmentId}"}})
		placed := gql(ctx, shop, placeOrderMutation, map[string]any{"input": orderInput(customer, product, 1), "key": "key-" + id})
		placed.expectOK()
		name := placed.str("placeOrder", "order", "id")
		// Status is written in batches, so the saga's progress is read from the services:
		// once the unit is reserved, the shipment call is under way and the pivot is ahead.
		Eventually(func() int { return stockOf(ctx, product) }).WithContext(ctx).WithTimeout(30 * time.Second).Should(Equal(9))

		cancel := gql(ctx, shop, cancelMutation, map[string]any{"id": name})
		cancel.expectOK()
		Expect(cancel.get("cancelOrder", "saga", "deleting")).To(BeTrue())
		Eventually(func() []v1.OrderSaga { return sagasOf(ctx, customer) }).WithContext(ctx).WithTimeout(60*time.Second).Should(BeEmpty(),
			"the saga compensates and goes")
		Expect(stockOf(ctx, product)).To(Equal(10), "the reserved unit is back")
		gone := gql(ctx, shop, orderQuery, map[string]any{"id": name})
		Expect(gone.codes()).To(ConsistOf("NOT_FOUND"))
	}, SpecTimeout(2*time.Minute))

	It("pages the orders of a customer, counts phases, and answers for the services that are up", func(ctx SpecContext) {
		id := uniqueSuffix()
		product, customer := "E2E-GW-"+strings.ToUpper(id), "cust-gw-"+id
		setProduct(ctx, product, "1.00", 10)
		for i := range 3 {
			gql(ctx, shop, placeOrderMutation, map[string]any{"input": orderInput(customer, product, 1), "key": fmt.Sprintf("key-%s-%d", id, i)}).expectOK()
		}
		Eventually(func(g Gomega) {
			all := gql(ctx, shop, ordersQuery, map[string]any{"customer": customer, "first": 10, "phase": "Completed"})
			g.Expect(all.errors).To(BeEmpty())
			g.Expect(all.get("orders", "totalCount")).To(BeNumerically("==", 3))
		}).WithContext(ctx).WithTimeout(60 * time.Second).Should(Succeed())

		page1 := gql(ctx, shop, ordersQuery, map[string]any{"customer": customer, "first": 2})
		page1.expectOK()
		Expect(page1.get("orders", "edges")).To(HaveLen(2))
		Expect(page1.get("orders", "pageInfo", "hasNextPage")).To(BeTrue())
		page2 := gql(ctx, shop, ordersQuery, map[string]any{"customer": customer, "first": 2, "after": page1.str("orders", "pageInfo", "endCursor")})
		page2.expectOK()
		Expect(page2.get("orders", "edges")).To(HaveLen(1))
		Expect(page2.get("orders", "pageInfo", "hasNextPage")).To(BeFalse())
		none := gql(ctx, shop, ordersQuery, map[string]any{"customer": customer, "first": 2, "phase": "Compensated"})
		Expect(none.get("orders", "totalCount")).To(BeNumerically("==", 0))
		counts := gql(ctx, shop, `{ phaseCounts { phase count } }`, nil)
		counts.expectOK()
		Expect(counts.get("phaseCounts")).To(ContainElement(And(HaveKeyWithValue("phase", "Completed"), HaveKeyWithValue("count", BeNumerically(">=", 3)))))

		By("stopping the payment service: its field fails, the rest is served")
		name := page2.str("orders", "edges", "0", "node", "id")
		stack.StopProcess("payment")
		DeferCleanup(func(ctx SpecContext) { Expect(stack.StartService(ctx, "payment")).To(Succeed()) })
		partial := gql(ctx, shop, orderQuery, map[string]any{"id": name})
		Expect(partial.status).To(Equal(http.StatusOK))
		Expect(partial.codes()).To(ConsistOf("BACKEND_UNAVAILABLE"))
		Expect(partial.errors[0].Path).To(Equal([]any{"order", "payment"}))
		Expect(partial.get("order", "payment")).To(BeNil())
		Expect(partial.str("order", "record", "status")).To(Equal("CONFIRMED"))
		Expect(partial.str("order", "shipment", "status")).To(Equal("SCHEDULED"))
	}, SpecTimeout(2*time.Minute))

	It("streams a saga from Pending to Completed over graphql-transport-ws, fed by a watch", func(ctx SpecContext) {
		id := uniqueSuffix()
		product, customer := "E2E-GW-"+strings.ToUpper(id), "cust-gw-"+id
		setProduct(ctx, product, "3.00", 10)
		ws := dialSubscriptions(ctx, shop)
		defer func() { _ = ws.Close(websocket.StatusNormalClosure, "") }()
		ws.subscribe(ctx, "all", `subscription { ordersChanged { id order { customerId saga { phase } } } }`, nil)

		// The first step takes a second, so that Pending and Running are seen.
		setFaults(ctx, "order", faults{Latency: "1s", Routes: []string{"PUT /v1/orders/{orderId}"}})
		placed := gql(ctx, shop, placeOrderMutation, map[string]any{"input": orderInput(customer, product, 1), "key": "key-" + id})
		placed.expectOK()
		name := placed.str("placeOrder", "order", "id")
		ws.subscribe(ctx, "one", `subscription($id: ID!) { orderUpdated(id: $id) { id saga { phase } } }`, map[string]any{"id": name})

		var seen []string // the phases of this order, in order, from both subscriptions
		var oneEnded bool
		for !oneEnded || len(seen) == 0 || seen[len(seen)-1] != "Completed" {
			msg := ws.next(ctx)
			switch {
			case msg.Type == "complete" && msg.ID == "one":
				oneEnded = true
			case msg.Type == "next" && msg.ID == "all":
				var p struct {
					Data struct {
						OrdersChanged struct {
							ID    string `json:"id"`
							Order *struct {
								Saga struct {
									Phase string `json:"phase"`
								} `json:"saga"`
							} `json:"order"`
						} `json:"ordersChanged"`
					} `json:"data"`
				}
				Expect(json.Unmarshal(msg.Payload, &p)).To(Succeed())
				if p.Data.OrdersChanged.ID == name && p.Data.OrdersChanged.Order != nil {
					seen = appendNew(seen, p.Data.OrdersChanged.Order.Saga.Phase)
				}
			case msg.Type == "next" && msg.ID == "one":
				Expect(string(msg.Payload)).To(ContainSubstring(name))
			case msg.Type == "error":
				Fail("subscription error: " + string(msg.Payload))
			}
			if len(seen) > 0 && seen[len(seen)-1] == "Completed" {
				break
			}
		}
		Expect(seen[0]).To(Equal("Pending"), "phases seen: %v", seen)
		Expect(seen[len(seen)-1]).To(Equal("Completed"), "phases seen: %v", seen)
	}, SpecTimeout(2*time.Minute))

	It("lets only what the caller's RBAC allows, and no one without a valid token", func(ctx SpecContext) {
		id := uniqueSuffix()
		customer := "cust-gw-" + id
		input := orderInput(customer, "E2E-GW-NONE", 1)
		place := func(token string, extra map[string]any) *gqlResponse {
			vars := map[string]any{"input": input, "key": "key-" + id}
			maps.Copy(vars, extra)
			return gql(ctx, token, placeOrderMutation, vars)
		}
		cs, err := kubernetes.NewForConfig(stack.Config)
		Expect(err).NotTo(HaveOccurred())

		By("no token, a garbage token")
		Expect(place("", nil).codes()).To(ConsistOf("UNAUTHENTICATED"))
		Expect(place("not-a-token", nil).codes()).To(ConsistOf("UNAUTHENTICATED"))

		By("a ServiceAccount with no RBAC on ordersagas")
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "no-orders-" + id, Namespace: localstack.ShopNamespace}}
		_, err = cs.CoreV1().ServiceAccounts(sa.Namespace).Create(ctx, sa, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) {
			_ = cs.CoreV1().ServiceAccounts(sa.Namespace).Delete(ctx, sa.Name, metav1.DeleteOptions{})
		})
		tr, err := cs.CoreV1().ServiceAccounts(sa.Namespace).CreateToken(ctx, sa.Name,
			&authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](600)}}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		denied := place(tr.Status.Token, nil)
		Expect(denied.codes()).To(ConsistOf("FORBIDDEN"))
		Expect(denied.errors[0].Message).To(ContainSubstring("may not create ordersagas"))
		viewer := gql(ctx, tr.Status.Token, `{ viewer { username canPlaceOrders canListOrders } }`, nil)
		viewer.expectOK()
		Expect(viewer.get("viewer", "canPlaceOrders")).To(BeFalse())

		By("the shop's own token, in a namespace it has no rights in")
		Expect(place(shop, map[string]any{"ns": "kube-system"}).codes()).To(ConsistOf("FORBIDDEN"))
		Expect(gql(ctx, shop, `{ orders(namespace: "kube-system") { totalCount } }`, nil).codes()).To(ConsistOf("FORBIDDEN"))

		By("tokens signed by the API server's own key: a live one is accepted, an expired one is not")
		live := signedToken(ctx, cs, localstack.ShopFrontend, time.Now().Add(10*time.Minute))
		gql(ctx, live, `{ viewer { username } }`, nil).expectOK()
		expired := signedToken(ctx, cs, localstack.ShopFrontend, time.Now().Add(-time.Minute))
		Expect(place(expired, nil).codes()).To(ConsistOf("UNAUTHENTICATED"))

		Expect(sagasOf(ctx, customer)).To(BeEmpty(), "no refused call wrote anything")
	}, SpecTimeout(2*time.Minute))

	It("refuses a query too costly and a body too large, before resolving anything", func(ctx SpecContext) {
		// 200 orders, each with its Events and four service reads: far above the limit.
		costly := `{ orders(first: 200) { edges { node { id events { reason } record { status } payment { status } shipment { status } notices { type } } } } }`
		resp := gql(ctx, shop, costly, nil)
		Expect(resp.codes()).To(ConsistOf("QUERY_TOO_COMPLEX"))
		Expect(resp.data).To(BeNil())
		// The schema has no cycles, so no valid query here is deeper than the default
		// limit; internal/gateway's tests refuse a deep one with a lower limit.
		gql(ctx, shop, `{ orders(first: 5) { edges { node { saga { steps { compensation { state } } } } } } }`, nil).expectOK()

		resp = gql(ctx, shop, "{ products { id } }"+strings.Repeat(" ", 2<<20), nil)
		Expect(resp.status).To(Equal(http.StatusRequestEntityTooLarge))
	}, SpecTimeout(time.Minute))
})

const placeOrderMutation = `mutation($input: PlaceOrderInput!, $key: String!, $ns: String) {
  placeOrder(input: $input, idempotencyKey: $key, namespace: $ns) { created order { id saga { phase } } } }`

const cancelMutation = `mutation($id: ID!) { cancelOrder(id: $id) { id saga { phase deleting } } }`

const orderQuery = `query($id: ID!) { order(id: $id) {
  id customerId total
  saga { phase currentStep failure { reason } steps { name state attempts compensation { state } } }
  record { status total } payment { status amount } shipment { status carrier trackingNumber estimatedDelivery }
  notices { type status } events { type reason message }
} }`

const ordersQuery = `query($customer: String, $phase: Phase, $first: Int, $after: String) {
  orders(customerId: $customer, phase: $phase, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id saga { phase } } } } }`

func orderInput(customer, product string, quantity int) map[string]any {
	return map[string]any{
		"customerId":    customer,
		"items":         []any{map[string]any{"productId": product, "quantity": quantity, "unitPrice": "10.00"}},
		"paymentMethod": "CREDIT_CARD",
		"shipping": map[string]any{"method": "STANDARD", "address": map[string]any{
			"name": "Ada", "line1": "1 Main St", "city": "Berlin", "postalCode": "10115", "country": "DE",
		}},
	}
}

// sagasOf lists the sagas the gateway placed for a customer (its label).
func sagasOf(ctx context.Context, customer string) []v1.OrderSaga {
	GinkgoHelper()
	out := kubectlOK(ctx, "get", "osaga", "-n", localstack.ShopNamespace, "-o", "json",
		"-l", graph.CustomerLabel+"="+graph.CustomerHash(customer))
	list := v1.OrderSagaList{}
	Expect(json.Unmarshal([]byte(out), &list)).To(Succeed())
	return list.Items
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	status int
	data   map[string]any
	errors []gqlError
	raw    []byte
}

// gql sends one operation to the stack's gateway with token (none when empty).
func gql(ctx context.Context, token, query string, vars map[string]any) *gqlResponse {
	GinkgoHelper()
	return gqlAt(ctx, stack.GatewayURL, token, query, vars)
}

// gqlAt sends one operation to the gateway at url.
func gqlAt(ctx context.Context, url, token, query string, vars map[string]any) *gqlResponse {
	GinkgoHelper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	Expect(err).NotTo(HaveOccurred())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/graphql", bytes.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	out := &gqlResponse{status: resp.StatusCode, raw: raw}
	if resp.StatusCode == http.StatusOK {
		var decoded struct {
			Data   map[string]any `json:"data"`
			Errors []gqlError     `json:"errors"`
		}
		Expect(json.Unmarshal(raw, &decoded)).To(Succeed(), "%s", raw)
		out.data, out.errors = decoded.Data, decoded.Errors
	}
	return out
}

func (r *gqlResponse) expectOK() {
	GinkgoHelper()
	Expect(r.status).To(Equal(http.StatusOK), "%s", r.raw)
	Expect(r.errors).To(BeEmpty(), "%s", r.raw)
}

// get walks the data by keys (a list's index as a decimal string).
func (r *gqlResponse) get(path ...string) any {
	GinkgoHelper()
	var v any = r.data
	for _, k := range path {
		switch node := v.(type) {
		case map[string]any:
			v = node[k]
		case []any:
			var i int
			_, err := fmt.Sscan(k, &i)
			Expect(err).NotTo(HaveOccurred())
			Expect(i).To(BeNumerically("<", len(node)), "%s", r.raw)
			v = node[i]
		default:
			Fail(fmt.Sprintf("no %v in %s", path, r.raw))
		}
	}
	return v
}

func (r *gqlResponse) str(path ...string) string {
	GinkgoHelper()
	s, ok := r.get(path...).(string)
	Expect(ok).To(BeTrue(), "%v is not a string in %s", path, r.raw)
	return s
}

// codes are the errors' extensions.code values.
func (r *gqlResponse) codes() []string {
	out := make([]string, 0, len(r.errors))
	for _, e := range r.errors {
		c, _ := e.Extensions["code"].(string)
		out = append(out, c)
	}
	return out
}

// fields are the extensions.field of the errors with code.
func (r *gqlResponse) fields(code string) []string {
	out := []string{}
	for _, e := range r.errors {
		if e.Extensions["code"] == code {
			f, _ := e.Extensions["field"].(string)
			out = append(out, f)
		}
	}
	return out
}

func appendNew(seen []string, phase string) []string {
	if len(seen) > 0 && seen[len(seen)-1] == phase {
		return seen
	}
	return append(seen, phase)
}

// wsClient speaks graphql-transport-ws.
type wsClient struct{ *websocket.Conn }

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func dialSubscriptions(ctx context.Context, token string) wsClient {
	GinkgoHelper()
	u := "ws" + strings.TrimPrefix(stack.GatewayURL, "http") + "/graphql"
	conn, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	Expect(err).NotTo(HaveOccurred())
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	Expect(conn.Subprotocol()).To(Equal("graphql-transport-ws"))
	init, err := json.Marshal(map[string]string{"Authorization": "Bearer " + token})
	Expect(err).NotTo(HaveOccurred())
	Expect(wsjson.Write(ctx, conn, wsMessage{Type: "connection_init", Payload: init})).To(Succeed())
	c := wsClient{conn}
	Expect(c.next(ctx).Type).To(Equal("connection_ack"))
	return c
}

func (c wsClient) subscribe(ctx context.Context, id, query string, vars map[string]any) {
	GinkgoHelper()
	payload, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	Expect(err).NotTo(HaveOccurred())
	Expect(wsjson.Write(ctx, c.Conn, wsMessage{ID: id, Type: "subscribe", Payload: payload})).To(Succeed())
}

// next is the next message that is not a ping (answered) or a pong.
func (c wsClient) next(ctx context.Context) wsMessage {
	GinkgoHelper()
	for {
		var m wsMessage
		Expect(wsjson.Read(ctx, c.Conn, &m)).To(Succeed())
		switch m.Type {
		case "ping":
			Expect(wsjson.Write(ctx, c.Conn, wsMessage{Type: "pong"})).To(Succeed())
		case "pong":
		default:
			return m
		}
	}
}

// signedToken is a ServiceAccount token for name in the shop namespace, signed with the
// API server's own key, that expires at exp: what TokenRequest would issue, except that
// TokenRequest will not issue one that has already expired.
func signedToken(ctx context.Context, cs kubernetes.Interface, name string, exp time.Time) string {
	GinkgoHelper()
	pemBytes, err := os.ReadFile(stack.ServiceAccountSigningKeyFile())
	Expect(err).NotTo(HaveOccurred())
	block, _ := pem.Decode(pemBytes)
	Expect(block).NotTo(BeNil())
	key := parsePrivateKey(block)
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	Expect(err).NotTo(HaveOccurred())
	kid := sha256.Sum256(pub)
	sa, err := cs.CoreV1().ServiceAccounts(localstack.ShopNamespace).Get(ctx, name, metav1.GetOptions{})
	Expect(err).NotTo(HaveOccurred())
	// The issuer and audience the API server expects are those of a token it minted.
	minted, err := cs.CoreV1().ServiceAccounts(localstack.ShopNamespace).CreateToken(ctx, name,
		&authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](600)}}, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
	var mintedClaims map[string]any
	parts := strings.Split(minted.Status.Token, ".")
	Expect(parts).To(HaveLen(3))
	claimBytes, err := base64.RawURLEncoding.DecodeString(parts[1])
	Expect(err).NotTo(HaveOccurred())
	Expect(json.Unmarshal(claimBytes, &mintedClaims)).To(Succeed())

	enc := func(v any) string {
		b, err := json.Marshal(v)
		Expect(err).NotTo(HaveOccurred())
		return base64.RawURLEncoding.EncodeToString(b)
	}
	iat := exp.Add(-10 * time.Minute)
	header := enc(map[string]string{"alg": jwsAlgorithm(key), "typ": "JWT", "kid": base64.RawURLEncoding.EncodeToString(kid[:])})
	claims := enc(map[string]any{
		"iss": mintedClaims["iss"], "aud": mintedClaims["aud"],
		"sub": "system:serviceaccount:" + localstack.ShopNamespace + ":" + name,
		"iat": iat.Unix(), "nbf": iat.Unix(), "exp": exp.Unix(),
		"kubernetes.io": map[string]any{
			"namespace":      localstack.ShopNamespace,
			"serviceaccount": map[string]string{"name": name, "uid": string(sa.UID)},
		},
	})
	return header + "." + claims + "." + base64.RawURLEncoding.EncodeToString(jwsSign(key, header+"."+claims))
}

// parsePrivateKey reads an RSA or ECDSA key in PKCS#1, SEC 1 or PKCS#8 form.
func parsePrivateKey(block *pem.Block) crypto.Signer {
	GinkgoHelper()
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k
	}
	if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return k
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	Expect(err).NotTo(HaveOccurred())
	signer, ok := k.(crypto.Signer)
	Expect(ok).To(BeTrue(), "a signing key")
	return signer
}

func jwsAlgorithm(key crypto.Signer) string {
	if _, ok := key.(*rsa.PrivateKey); ok {
		return "RS256"
	}
	return "ES256"
}

// jwsSign signs input as RFC 7515 wants: PKCS#1 v1.5 for RS256, and for ES256 the raw
// r and s, 32 bytes each, not ASN.1.
func jwsSign(key crypto.Signer, input string) []byte {
	GinkgoHelper()
	digest := sha256.Sum256([]byte(input))
	switch k := key.(type) {
	case *rsa.PrivateKey:
		sig, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, digest[:])
		Expect(err).NotTo(HaveOccurred())
		return sig
	case *ecdsa.PrivateKey:
		Expect(k.Curve.Params().BitSize).To(Equal(256), "ES256 needs a P-256 key")
		r, s, err := ecdsa.Sign(rand.Reader, k, digest[:])
		Expect(err).NotTo(HaveOccurred())
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		s.FillBytes(out[32:])
		return out
	}
	Fail(fmt.Sprintf("unsupported key %T", key))
	return nil
}
