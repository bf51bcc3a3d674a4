package notice_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"sortie.dev/sortie/internal/notice"
	"sortie.dev/sortie/internal/policy"
)

func ExampleSummarize() {
	rules, _ := policy.ParseRules("reject *:22")
	p, _ := policy.New(policy.Options{Base: policy.BaseDefault, Rules: rules})
	s, _ := notice.Summarize(p)
	fmt.Println("IPv4:", s.IPv4)
	fmt.Println("IPv6 exit:", s.IPv6Exit)
	// Output:
	// IPv4: all ports except 22, 25, 119, 135-139, 445, 563, 1214, 4661-4666, 6346-6429, 6699, 6881-6999
	// IPv6 exit: false
}

func ExamplePages_Handler() {
	pages, err := notice.New(notice.Options{
		Operator: notice.Operator{Name: "Example Privacy Association", Contact: "abuse@example.org"},
		RingTTL:  15 * time.Minute,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	rec := httptest.NewRecorder()
	pages.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/blocklist.json", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	// Output:
	// 200 application/json; charset=utf-8
}
