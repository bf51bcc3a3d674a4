package parse

// Bounds on the work one mail may cause. Input beyond a bound is ignored, never an error.
const (
	// MaxInput is how many bytes of a mail Parse reads; the rest is ignored.
	MaxInput = 10 << 20
	// MaxParts is how many leaf MIME parts Parse keeps per message.
	MaxParts = 100
	// MaxNested is how deep Parse follows message/rfc822 parts inside one another.
	MaxNested = 3
	// MaxAddresses and MaxURLs bound Report.Addresses and Report.URLs.
	MaxAddresses = 64
	MaxURLs      = 64
	// MaxFields bounds Report.Fields; MaxFieldValue the length in bytes of one value (longer
	// values are cut at a rune boundary).
	MaxFields     = 256
	MaxFieldValue = 4096
	// MaxReports bounds the reports one mail yields (ACNS mails may hold several notices).
	MaxReports = 64

	maxMultipartDepth = 8       // multipart inside multipart; deeper bodies are kept as leaves
	maxScan           = 1 << 20 // bytes of one text scanned for addresses, URLs and times
	maxURLLen         = 2048
)
