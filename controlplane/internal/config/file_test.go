package config

import (
	"strings"
	"testing"
)

// The original prototype's file must be accepted as is.
const original = `{"services":[{"serviceName":"be1-srv","namespace":"default","portName":"grpc","protocol":"tcp","grpcServiceName":"echo.EchoServer","zone":"us-central1-a","region":"us-central1"},
{"serviceName":"be2-srv","namespace":"default","portName":"grpc","protocol":"tcp","grpcServiceName":"echo.EchoServer","zone":"us-central1-a","region":"us-central1"}]}`

func TestParseOriginalFormat(t *testing.T) {
	for _, mode := range []Mode{ModeStatic, ModeKubernetes, ModeDNS} {
		f, err := Parse("svc_config.json", []byte(original), mode)
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if len(f.Services) != 2 || f.Services[1].ServiceName != "be2-srv" || f.Services[0].Locality().Zone != "us-central1-a" {
			t.Errorf("%s: parsed %+v", mode, f.Services)
		}
		if !f.Services[0].HealthCheckEnabled() {
			t.Errorf("health checking should default to on")
		}
	}
}

func TestStaticServiceDerivesPort(t *testing.T) {
	f, err := Parse("c.json", []byte(`{"services":[{"serviceName":"a","endpoints":["127.0.0.1:50051","[::1]:50051"]},
		{"serviceName":"b","endpoints":["127.0.0.1:1","127.0.0.2:2"]},{"serviceName":"c","port":9,"endpoints":["127.0.0.1:1"]}]}`), ModeStatic)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []uint32{50051, 0, 9} {
		svc, err := f.Services[i].StaticService()
		if err != nil {
			t.Fatal(err)
		}
		if svc.Port != want {
			t.Errorf("%s: port %d, want %d", svc.Key, svc.Port, want)
		}
		if svc.Key.Namespace != "default" {
			t.Errorf("namespace defaults to %q", svc.Key.Namespace)
		}
	}
}

func TestParseRejectsBadInputNamingTheProblem(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		mode       Mode
		want       string
	}{
		{"syntax", "{\n \"services\": [,]}", ModeStatic, "c.json: line 2, column"},
		{"wrong type", `{"services":[{"serviceName":5}]}`, ModeStatic, "services.serviceName: want string"},
		{"unknown key", `{"services":[{"serviceName":"a","portname":"grpc"}]}`, ModeStatic, `services[0]: unknown key "portname" (did you mean "portName"?)`},
		{"unknown key exact", `{"services":[{"serviceName":"a","bogus":1}]}`, ModeStatic, `unknown field "bogus"`},
		{"unknown top-level key", `{"services":[],"Services":[]}`, ModeStatic, `unknown key "Services" (did you mean "services"?)`},
		{"no services", `{}`, ModeStatic, `missing "services"`},
		{"trailing data", `{"services":[]} {}`, ModeStatic, "unexpected data"},
		{"bad name", `{"services":[{"serviceName":"Be1"}]}`, ModeStatic, "services[0].serviceName"},
		{"bad namespace", `{"services":[{"serviceName":"a","namespace":"x_y"}]}`, ModeStatic, "services[0].namespace"},
		{"port name needed", `{"services":[{"serviceName":"a"}]}`, ModeKubernetes, "services[0].portName: is required"},
		{"bad port name", `{"services":[{"serviceName":"a","portName":"this-is-far-too-long"}]}`, ModeDNS, "services[0].portName"},
		{"bad protocol", `{"services":[{"serviceName":"a","protocol":"sctp"}]}`, ModeStatic, "services[0].protocol"},
		{"duplicate", `{"services":[{"serviceName":"a"},{"serviceName":"a","namespace":"default"}]}`, ModeStatic, "services[1]: duplicate service default/a (also services[0])"},
		{"bad endpoint", `{"services":[{"serviceName":"a","endpoints":["localhost:80"]}]}`, ModeStatic, "services[0].endpoints[0]"},
		{"endpoint port", `{"services":[{"serviceName":"a","endpoints":["127.0.0.1:0"]}]}`, ModeStatic, "port 0 out of range"},
		{"duplicate endpoint", `{"services":[{"serviceName":"a","endpoints":["127.0.0.1:1","127.0.0.1:1"]}]}`, ModeStatic, "endpoints[1]: duplicate of endpoints[0]"},
		{"endpoints outside static", `{"services":[{"serviceName":"a","portName":"grpc","endpoints":["127.0.0.1:1"]}]}`, ModeKubernetes, "only allowed with static"},
		{"port out of range", `{"services":[{"serviceName":"a","port":70000}]}`, ModeStatic, "services[0].port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.json", []byte(tc.json), tc.mode)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "c.json: ") {
				t.Errorf("error %v, want it to start with the file name and contain %q", err, tc.want)
			}
		})
	}
}
