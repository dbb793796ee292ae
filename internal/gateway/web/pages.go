package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
)

// templateFiles holds the page templates: layout.html and one file per page, each defining
// "content".
//
//go:embed templates/*.html
var templateFiles embed.FS

// pageNames are the pages, each templates/<name>.html.
func pageNames() []string { return []string{"list", "order", "new", "notfound"} }

// choice is one option of a select: the enum value the API takes and its label.
type choice struct{ Value, Label string }

// choices are the enums of the GraphQL schema that the pages offer, in the schema's order.
type choices struct {
	Phases                          []string
	PaymentMethods, ShippingMethods []choice
}

func schemaChoices() choices {
	return choices{
		Phases: []string{"Pending", "Running", "Completed", "Compensating", "Compensated", "Failed"},
		PaymentMethods: []choice{
			{"CREDIT_CARD", "Credit card"}, {"DEBIT_CARD", "Debit card"}, {"PAYPAL", "PayPal"}, {"BANK_TRANSFER", "Bank transfer"},
		},
		ShippingMethods: []choice{
			{"STANDARD", "Standard"}, {"EXPRESS", "Express"}, {"OVERNIGHT", "Overnight"}, {"TWO_DAY", "Two-day"},
			{"INTERNATIONAL", "International"},
		},
	}
}

// page is one parsed page: the layout with the page's content.
type page struct{ tmpl *template.Template }

// pageData is what a page template reads.
type pageData struct {
	// Title is the page's title, before " · OrderSaga".
	Title string
	// Page names the page; the script reads it from <body data-page>.
	Page string
	// Namespace and ID name the saga of an order page.
	Namespace, ID string
	// choices are what the forms offer.
	choices
}

// mustParsePages parses every page with the layout; the assets give the URLs the layout links.
func mustParsePages(assets map[string]*asset) map[string]*page {
	pages := map[string]*page{}
	for _, name := range pageNames() {
		t := template.New("layout.html").Funcs(template.FuncMap{"asset": func(file string) (string, error) {
			a, ok := assets[file]
			if !ok {
				return "", fmt.Errorf("no asset %q", file)
			}
			return a.url(), nil
		}})
		pages[name] = &page{tmpl: template.Must(t.ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html"))}
	}
	return pages
}

// render writes the page with status. It renders into a buffer first, so that a template
// error is a clean 500 and not half a page.
func (s *site) render(w http.ResponseWriter, r *http.Request, status int, name string, data pageData) {
	data.Page = name
	data.choices = s.choices
	var b bytes.Buffer
	if err := s.pages[name].tmpl.Execute(&b, data); err != nil {
		slog.ErrorContext(r.Context(), "render dashboard page", "page", name, "error", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b.Bytes()) // the client went away; nothing to do
	}
}
