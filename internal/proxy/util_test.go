package proxy

import (
	"golang.org/x/sys/unix"
	"k8s.io/apimachinery/pkg/types"
)

func nn(ns, name string) types.NamespacedName { return types.NamespacedName{Namespace: ns, Name: name} }

func closeFd(fd int) error { return unix.Close(fd) }
