; Inno Setup 6 script for reviewdesk (installer/windows/README.md). NOT BUILT OR TESTED: written
; for the layout `installer/build.py` makes on Windows (dist\reviewdesk\). Build with
;   iscc /DAppVersion=0.1.0 installer\windows\reviewdesk.iss

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z reviewdesk.iss
#endif
#define Root "..\.."

[Setup]
; A fixed AppId: upgrades replace the previous version. Never change it.
AppId={{6B0E6B77-3C55-4C1F-9A55-2D7F4E2B9C31}
AppName=reviewdesk
AppVersion={#AppVersion}
AppPublisher=reviewdesk developers
AppComments=Blind pairwise human review of LLM eval results
DefaultDirName={autopf}\reviewdesk
DefaultGroupName=reviewdesk
DisableProgramGroupPage=yes
; Per-user install unless the user picks "for all users" (then it asks for admin rights).
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
LicenseFile={#Root}\LICENSE
OutputDir={#Root}\dist
OutputBaseFilename=reviewdesk-{#AppVersion}-windows-x86_64-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesAssociations=yes
UninstallDisplayIcon={app}\reviewdesk-gui.exe
#if FileExists(Root + "\resources\windows\reviewdesk.ico")
SetupIconFile={#Root}\resources\windows\reviewdesk.ico
#endif
; SignTool=signtool sign /fd sha256 /tr http://timestamp.digicert.com /td sha256 /a $f

[Files]
; The whole one-folder bundle; an upgrade first removes the old _internal (stale DLLs).
Source: "{#Root}\dist\reviewdesk\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\reviewdesk"; Filename: "{app}\reviewdesk-gui.exe"
Name: "{autodesktop}\reviewdesk"; Filename: "{app}\reviewdesk-gui.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; Flags: unchecked

[Registry]
; *.reviewdesk opens in reviewdesk-gui (HKA: per-user or machine-wide, as installed).
Root: HKA; Subkey: "Software\Classes\.reviewdesk"; ValueType: string; ValueName: ""; ValueData: "reviewdesk.project"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\reviewdesk.project"; ValueType: string; ValueName: ""; ValueData: "reviewdesk project"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\reviewdesk.project\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\reviewdesk-gui.exe,0"
Root: HKA; Subkey: "Software\Classes\reviewdesk.project\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\reviewdesk-gui.exe"" ""%1"""

[Run]
Filename: "{app}\reviewdesk-gui.exe"; Description: "{cm:LaunchProgram,reviewdesk}"; Flags: nowait postinstall skipifsilent
