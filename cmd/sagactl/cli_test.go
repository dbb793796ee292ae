package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestProgramName(t *testing.T) {
	cases := map[string]struct {
		reason string
		arg0   string
		want   string
	}{
		"Sagactl":       {reason: "The plain binary is sagactl.", arg0: "/usr/local/bin/sagactl", want: "sagactl"},
		"KubectlPlugin": {reason: "Named kubectl-saga, it is the plugin kubectl saga.", arg0: "/home/u/bin/kubectl-saga", want: "kubectl saga"},
		"Windows":       {reason: "The .exe suffix is not part of the name.", arg0: `kubectl-saga.exe`, want: "kubectl saga"},
		"Underscore":    {reason: "kubectl maps dashes in plugin commands to underscores in file names.", arg0: "kubectl-order_saga", want: "kubectl order-saga"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, programName(tc.arg0)); diff != "" {
				t.Errorf("\nReason: %s\nprogramName(%q): -want, +got:\n%s", tc.reason, tc.arg0, diff)
			}
		})
	}
}

// TestUsage: bad command lines exit 2 with a message and a hint, before any connection.
func TestUsage(t *testing.T) {
	cases := map[string]struct {
		reason     string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		"NoCommand":          {reason: "A command is required.", args: nil, wantCode: 2, wantStderr: "missing command"},
		"UnknownCommand":     {reason: "Only five commands exist.", args: []string{"frobnicate"}, wantCode: 2, wantStderr: `unknown command "frobnicate"`},
		"DescribeNeedsName":  {reason: "describe takes a NAME.", args: []string{"describe"}, wantCode: 2, wantStderr: "describe takes exactly one saga NAME"},
		"RetryOneName":       {reason: "retry takes one NAME.", args: []string{"retry", "a", "b"}, wantCode: 2, wantStderr: "retry takes exactly one saga NAME"},
		"UnknownKind":        {reason: "describe, retry and abandon know two kinds.", args: []string{"describe", "pod/x"}, wantCode: 2, wantStderr: `unknown kind "pod" in "pod/x": want ordersaga/NAME or saga/NAME`},
		"UnknownKindRetry":   {reason: "retry refuses an unknown kind before it connects.", args: []string{"retry", "sagadefinition/x"}, wantCode: 2, wantStderr: `unknown kind "sagadefinition"`},
		"KindWithoutName":    {reason: "KIND/ needs a NAME.", args: []string{"abandon", "saga/"}, wantCode: 2, wantStderr: `"saga/" is not a saga: want NAME or KIND/NAME`},
		"NameWithSlash":      {reason: "A name has no slash.", args: []string{"describe", "saga/a/b"}, wantCode: 2, wantStderr: `"saga/a/b" is not a saga`},
		"EmptyName":          {reason: "An empty NAME is no name.", args: []string{"describe", ""}, wantCode: 2, wantStderr: `"" is not a saga`},
		"CheckNoArgument":    {reason: "check takes no NAME.", args: []string{"check", "x"}, wantCode: 2, wantStderr: "check takes no argument"},
		"BadOutput":          {reason: "Two output formats exist.", args: []string{"check", "-o", "yaml"}, wantCode: 2, wantStderr: `--output "yaml": want table or json`},
		"FlagOfOtherCommand": {reason: "--wait belongs to abandon and retry.", args: []string{"describe", "x", "--wait", "5s"}, wantCode: 2, wantStderr: "--wait is a flag of abandon and retry, not of describe"},
		"AllAndNamespace":    {reason: "-A and -n contradict.", args: []string{"check", "-A", "-n", "x"}, wantCode: 2, wantStderr: "exclude each other"},
		"CanINeedsResource":  {reason: "can-i takes VERB and RESOURCE.", args: []string{"can-i", "get"}, wantCode: 2, wantStderr: "can-i takes exactly two arguments, VERB and RESOURCE[.GROUP]"},
		"CanIThreeArguments": {reason: "can-i takes no resource name.", args: []string{"can-i", "get", "secrets", "x"}, wantCode: 2, wantStderr: "can-i takes exactly two arguments"},
		"CanIEmptyArgument":  {reason: "An empty VERB is no verb.", args: []string{"can-i", "", "secrets"}, wantCode: 2, wantStderr: "can-i takes exactly two arguments"},
		"CanICheckFlag":      {reason: "--output belongs to check only.", args: []string{"can-i", "get", "secrets", "-o", "json"}, wantCode: 2, wantStderr: "--output is a flag of check, not of can-i"},
		"CanIWait":           {reason: "--wait belongs to abandon and retry.", args: []string{"can-i", "get", "secrets", "--wait", "5s"}, wantCode: 2, wantStderr: "--wait is a flag of abandon and retry, not of can-i"},
		"CanIAllAndNs":       {reason: "-A and -n contradict for can-i too.", args: []string{"can-i", "get", "secrets", "-A", "-n", "x"}, wantCode: 2, wantStderr: "exclude each other"},
		"AllNamespacesOnly":  {reason: "-A belongs to can-i and check.", args: []string{"describe", "x", "-A"}, wantCode: 2, wantStderr: "--all-namespaces is a flag of can-i and check, not of describe"},
		"UnknownFlag":        {reason: "pflag's error is shown.", args: []string{"check", "--frob"}, wantCode: 2, wantStderr: "unknown flag: --frob"},
		"Help":               {reason: "--help prints usage to stdout.", args: []string{"--help"}, wantCode: 0, wantStdout: "sagactl describe [KIND/]NAME"},
		"HelpCommand":        {reason: "help is --help.", args: []string{"help"}, wantCode: 0, wantStdout: "--all-namespaces"},
		"HelpKinds":          {reason: "The usage says what KIND/NAME is.", args: []string{"-h"}, wantCode: 0, wantStdout: "saga/NAME (also sagas)"},
		"HelpCanI":           {reason: "The usage shows can-i.", args: []string{"can-i", "--help"}, wantCode: 0, wantStdout: "sagactl can-i VERB RESOURCE[.GROUP] [-n NAMESPACE | -A]"},
		"CommandHelp":        {reason: "check --help is help too.", args: []string{"check", "-h"}, wantCode: 0, wantStdout: "Exit status"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := invocation{}.run(t, tc.args...)
			if got.code != tc.wantCode || !strings.Contains(got.stdout, tc.wantStdout) || !strings.Contains(got.stderr, tc.wantStderr) {
				t.Errorf("\nReason: %s\nsagactl %v = %d\nstdout: %s\nstderr: %s\nwant %d, stdout with %q, stderr with %q",
					tc.reason, tc.args, got.code, got.stdout, got.stderr, tc.wantCode, tc.wantStdout, tc.wantStderr)
			}
			if tc.wantCode == 2 && !strings.Contains(got.stderr, "Run 'sagactl --help' for usage.") {
				t.Errorf("\nReason: usage errors point to --help\nstderr: %s", got.stderr)
			}
		})
	}
}

func TestParseSagaArg(t *testing.T) {
	type parsed struct{ Kind, Name string }
	cases := map[string]struct {
		reason string
		arg    string
		want   parsed
	}{
		"BareName":       {reason: "A bare NAME is an OrderSaga, as before Sagas existed.", arg: "order-1002", want: parsed{"ordersaga", "order-1002"}},
		"OrderSaga":      {reason: "The kind, as kubectl writes it.", arg: "ordersaga/order-1002", want: parsed{"ordersaga", "order-1002"}},
		"OrderSagaShort": {reason: "The short name of the CRD.", arg: "osaga/o", want: parsed{"ordersaga", "o"}},
		"Saga":           {reason: "A Saga.", arg: "saga/onboard-7", want: parsed{"saga", "onboard-7"}},
		"SagaPlural":     {reason: "The plural, as kubectl accepts it.", arg: "sagas/onboard-7", want: parsed{"saga", "onboard-7"}},
		"SagaKindCase":   {reason: "The API kind, in any case.", arg: "Saga/onboard-7", want: parsed{"saga", "onboard-7"}},
		"WithGroup":      {reason: "The resource with its group.", arg: "ordersagas.saga.ordersaga.io/o", want: parsed{"ordersaga", "o"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			k, n, err := parseSagaArg(tc.arg)
			if err != nil {
				t.Fatalf("\nReason: %s\nparseSagaArg(%q): %v", tc.reason, tc.arg, err)
			}
			if diff := cmp.Diff(tc.want, parsed{k.name, n}); diff != "" {
				t.Errorf("\nReason: %s\nparseSagaArg(%q): -want, +got:\n%s", tc.reason, tc.arg, diff)
			}
		})
	}
}
