"""pyinstaller-hooks-contrib's pyqtgraph hook, minus the subpackages reviewdesk never loads.

The contrib hook walks every pyqtgraph subpackage to find the Qt-binding templates, importing
``pyqtgraph.opengl`` (needs PyOpenGL) and ``pyqtgraph.jupyter`` on the way, which only prints
warnings; the spec excludes them. Overrides the contrib hook (hookspath takes priority).
"""

from PyInstaller.utils.hooks import collect_data_files, collect_submodules
from PyInstaller.utils.hooks.qt import exclude_extraneous_qt_bindings

SKIP = ("pyqtgraph.examples", "pyqtgraph.opengl", "pyqtgraph.jupyter")

datas = collect_data_files("pyqtgraph", excludes=["**/examples/*"])
hiddenimports = [
    name
    for name in collect_submodules("pyqtgraph", filter=lambda name: not name.startswith(SKIP))
    if "Template" in name
]
# pyqtgraph.multiprocess is imported with pyqtgraph; contrib's runtime hook needs its bootstrap.
hiddenimports += ["pyqtgraph.multiprocess.bootstrap"]
excludedimports = exclude_extraneous_qt_bindings(hook_name="hook-pyqtgraph", qt_bindings_order=None)
