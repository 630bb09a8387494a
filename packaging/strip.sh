#!/bin/sh
# Strip as Debian's dh_strip does: debug symbols, and the compiler's version
# strings (.comment, .note) that a package has no use for.
exec strip --remove-section=.comment --remove-section=.note --strip-unneeded "$@"
