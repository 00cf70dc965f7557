# Source installs: `make install` builds only the tagwatch product (release) and installs it with
# the unit, an example config and the rules (scripts/install). `make package` builds the .deb.
DESTDIR ?=

.PHONY: all build install package test
all: build

build:
	swift build -c release --product tagwatch

install:
	scripts/install $(if $(DESTDIR),--destdir $(DESTDIR),)

package:
	scripts/package

test:
	scripts/test
