module github.com/kxds/kxds/tools/demo

go 1.26.0
