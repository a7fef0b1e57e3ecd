package config

import "fmt"

// Mode is how kxds discovers endpoints; some config fields depend on it.
type Mode string

const (
	ModeStatic     Mode = "static"
	ModeKubernetes Mode = "kubernetes"
	ModeDNS        Mode = "dns"
)

// ParseMode validates a --discovery flag value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeStatic, ModeKubernetes, ModeDNS:
		return m, nil
	}
	return "", fmt.Errorf("unknown discovery mode %q: want static, kubernetes or dns", s)
}
