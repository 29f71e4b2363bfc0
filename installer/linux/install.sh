#!/bin/sh
# Install this unpacked reviewdesk folder for the current user (no root needed):
#
#   ./install.sh                 copy it to ~/.local/opt/reviewdesk, link reviewdesk and
#                                reviewdesk-gui into ~/.local/bin, add the menu entry, the icon
#                                and the *.reviewdesk file type
#   ./install.sh --uninstall     remove all of that again (projects and settings are kept);
#                                run from the installed copy, it removes that copy
#
# Options: --dest DIR (default ~/.local/opt/reviewdesk), --bin DIR (default ~/.local/bin).
# Nothing outside these and the XDG data folder (applications/, icons/hicolor/, mime/) is
# touched. Not ~/.local/share/reviewdesk: that is reviewdesk's data folder (demo, logs, settings).
set -eu

here=$(cd "$(dirname "$0")" && pwd -P)
data_home=${XDG_DATA_HOME:-$HOME/.local/share}
dest=$HOME/.local/opt/reviewdesk
bin_dir=$HOME/.local/bin
action=install
dest_given=no

while [ $# -gt 0 ]; do
    case $1 in
        --dest) dest=$2; dest_given=yes; shift 2 ;;
        --bin) bin_dir=$2; shift 2 ;;
        --uninstall) action=uninstall; shift ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
done

marker=.reviewdesk-install
apps=$data_home/applications
icons=$data_home/icons/hicolor
mime=$data_home/mime

refresh() {
    # Menus and file managers pick the changes up by themselves on most desktops; these
    # tools only make it immediate, and are optional.
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$apps" 2>/dev/null || true
    fi
    if command -v update-mime-database >/dev/null 2>&1; then
        update-mime-database "$mime" >/dev/null 2>&1 || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f "$icons/index.theme" ]; then
        gtk-update-icon-cache -q -t "$icons" 2>/dev/null || true
    fi
}

remove_integration() {
    rm -f "$apps/reviewdesk.desktop" "$mime/packages/reviewdesk.xml"
    for icon in "$icons"/*/apps/reviewdesk.png "$icons"/scalable/apps/reviewdesk.svg; do
        [ -e "$icon" ] && rm -f "$icon"
    done
    for exe in reviewdesk reviewdesk-gui; do
        # only our own links, never a reviewdesk installed some other way (pip, a package)
        if [ -L "$bin_dir/$exe" ] && [ "$(readlink "$bin_dir/$exe")" = "$dest/$exe" ]; then
            rm -f "$bin_dir/$exe"
        fi
    done
}

if [ "$action" = uninstall ]; then
    # run from an installed copy: uninstall that one, wherever --dest put it
    if [ "$dest_given" = no ] && [ -f "$here/$marker" ]; then
        dest=$here
    fi
    remove_integration
    if [ -d "$dest" ]; then
        if [ ! -f "$dest/$marker" ]; then
            echo "install.sh: $dest was not made by install.sh; leaving it alone" >&2
            exit 1
        fi
        case $here in "$dest"|"$dest"/*) cd / ;; esac
        rm -rf "$dest"
    fi
    refresh
    echo "reviewdesk uninstalled from $dest (projects, settings and $data_home/reviewdesk kept)"
    exit 0
fi

[ -x "$here/reviewdesk-gui" ] && [ -d "$here/_internal" ] || {
    echo "install.sh: run me from the unpacked reviewdesk folder" >&2
    exit 1
}

if [ "$here" != "$(mkdir -p "$dest" && cd "$dest" && pwd -P)" ]; then
    if [ -n "$(ls -A "$dest")" ] && [ ! -f "$dest/$marker" ]; then
        echo "install.sh: $dest exists and was not made by install.sh; use --dest" >&2
        exit 1
    fi
    # an upgrade replaces the whole folder: no stale libraries from an older version
    rm -rf "$dest"
    mkdir -p "$dest"
    cp -a "$here/." "$dest/"
fi
touch "$dest/$marker"

mkdir -p "$bin_dir" "$apps" "$mime/packages" "$icons/scalable/apps"
ln -sfn "$dest/reviewdesk" "$bin_dir/reviewdesk"
ln -sfn "$dest/reviewdesk-gui" "$bin_dir/reviewdesk-gui"

# The menu entry starts the installed copy by its absolute path: ~/.local/bin is not on the
# PATH of every desktop session. Desktop Entry Specification escaping: inside the quoted
# argument " ` $ \ get a backslash, then every backslash is doubled, and % becomes %%.
gui=$dest/reviewdesk-gui
exec_arg=$(printf '%s' "$gui" | sed -e 's/["`$\\]/\\&/g' -e 's/\\/\\\\/g' -e 's/%/%%/g')
try_exec=$(printf '%s' "$gui" | sed -e 's/\\/\\\\/g')
while IFS= read -r line || [ -n "$line" ]; do
    case $line in
        Exec=*) printf 'Exec="%s" %%f\n' "$exec_arg" ;;
        TryExec=*) printf 'TryExec=%s\n' "$try_exec" ;;
        *) printf '%s\n' "$line" ;;
    esac
done < "$dest/reviewdesk.desktop" > "$apps/reviewdesk.desktop"
cp "$dest/share/mime/packages/reviewdesk.xml" "$mime/packages/reviewdesk.xml"
cp "$dest/reviewdesk.svg" "$icons/scalable/apps/reviewdesk.svg"
for png in "$dest"/share/icons/hicolor/*/apps/reviewdesk.png; do
    [ -e "$png" ] || continue
    size=$(basename "$(dirname "$(dirname "$png")")")
    mkdir -p "$icons/$size/apps"
    cp "$png" "$icons/$size/apps/reviewdesk.png"
done
refresh

echo "reviewdesk installed in $dest"
case ":$PATH:" in
    *":$bin_dir:"*) echo "start it from the menu, or run: reviewdesk-gui (GUI) / reviewdesk --help (CLI)" ;;
    *) echo "start it from the menu, or run: $bin_dir/reviewdesk-gui ($bin_dir is not on your PATH)" ;;
esac
