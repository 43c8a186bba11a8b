#!/bin/sh
# Desktop workspace: Xtigervnc on :1 (the X server and the VNC server in one, VNC on
# localhost:5901 with the session's password), a window manager and a terminal, and noVNC + the
# websockify bridge on 6901 (HTTP + WebSocket /websockify).
# env: VNC_PW (required), VNC_RESOLUTION (1280x800 at start), VNC_RESIZE (on: the desktop follows
# the viewer's window; off: it keeps VNC_RESOLUTION)
set -eu
: "${VNC_PW:?VNC_PW must hold the session password}"
export DISPLAY=:1
resolution=${VNC_RESOLUTION:-1280x800}
case "${VNC_RESIZE:-on}" in off | false | 0) resize=0 ;; *) resize=1 ;; esac

# A resumed (stopped, then started) container keeps /tmp: the lock of the previous X server would
# make this one refuse to start, and the desktop stay black.
rm -f /tmp/.X1-lock /tmp/.X11-unix/X1
printf '%s\n' "$VNC_PW" | tigervncpasswd -f >"$HOME/.vncpasswd"
chmod 600 "$HOME/.vncpasswd"
Xtigervnc :1 -geometry "$resolution" -depth 24 -localhost -rfbport 5901 -nolisten tcp \
    -rfbauth "$HOME/.vncpasswd" -SecurityTypes VncAuth -AlwaysShared -AcceptSetDesktopSize="$resize" \
    >/tmp/xvnc.log 2>&1 &
for _ in $(seq 50); do [ -e /tmp/.X11-unix/X1 ] && break; sleep 0.1; done

# Up to 5 s until the command given succeeds.
within_5s() {
    for _ in $(seq 250); do
        "$@" && return 0
        sleep 0.02
    done
    return 1
}

# The terminal before openbox (measured on this image: a terminal started while openbox starts
# sometimes maps its window only 4-20 s later, and the screen stays black until then). openbox
# manages it as it starts.
xterm -geometry 100x30+40+40 -title "${KASM_USER:-kasm-user}" >/dev/null 2>&1 &
terminal=$!
within_5s pgrep -P "$terminal" >/dev/null || echo "the terminal did not start in 5 s" >&2
openbox >/tmp/openbox.log 2>&1 &

exec websockify --web /usr/share/novnc 6901 localhost:5901
