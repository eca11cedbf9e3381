package main

// The man page and the shell completions come from the same flag
// definitions as --help, so they cannot drift from it: `make man` runs the
// hidden flags below and `make deb` ships what they print.

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// withPackagingOutputs adds the hidden --generate-man and
// --generate-completion SHELL flags, and turns on urfave/cli's completion
// protocol (the hidden --generate-bash-completion) that the bash and zsh
// scripts call at every Tab. The flags are hidden because only packagers use
// them; they stay out of flags() so that README.md's flag reference and the
// --config keys are not asked to list them.
func withPackagingOutputs(app *cli.App) *cli.App {
	app.EnableBashCompletion = true
	app.BashComplete = completeVisibleFlags
	app.Flags = append(app.Flags,
		&cli.BoolFlag{Name: "generate-man", Hidden: true,
			Usage: "print the man page (roff) and exit"},
		&cli.StringFlag{Name: "generate-completion", Hidden: true,
			Usage: "print the completion script for `SHELL` (bash, zsh or fish) and exit"},
	)
	serve := app.Action
	app.Action = func(c *cli.Context) error {
		switch {
		case c.Bool("generate-man"):
			return printManPage(c.App)
		case c.IsSet("generate-completion"):
			return printCompletion(c.App, c.String("generate-completion"))
		}
		return serve(c)
	}
	return app
}

// completeVisibleFlags answers a completion request with the flags of
// --help that start with the word being completed. urfave/cli's default
// would also offer hidden flags that are not booleans (--generate-completion).
func completeVisibleFlags(c *cli.Context) {
	cli.DefaultCompleteWithFlags(&cli.Command{Flags: c.App.VisibleFlags()})(c)
}

// manTemplate replaces urfave/cli's page layout (cli.MarkdownDocTemplate),
// whose synopsis lists every flag and whose sections come in an order man
// pages do not use. It is Markdown that urfave/cli renders to roff; the
// options (.GlobalArgs) come from the flag definitions.
const manTemplate = `% wsgate 1

# NAME

{{ .App.Name }} - {{ .App.Usage }}

# SYNOPSIS

**wsgate** [_options_] _COMMAND_ [_ARGS_...]

**wsgate** [_options_] **--dir** _DIR_

# DESCRIPTION

wsgate runs a program for every WebSocket connection: each text message the client sends becomes a line on the program's standard input, and each line the program prints becomes a message to the client. When the client leaves, the program's standard input is closed, then its process group gets SIGTERM after **--closems** and SIGKILL after **--killms**. When the program exits, the connection is closed with a code that tells how it ended.

Plain HTTP requests get a console page for trying the program out (or the files of **--staticdir**, or the CGI programs of **--cgidir**).

Every option can also be set in the environment as **WSGATE_**_NAME_ (upper case, dashes as underscores: **WSGATE_MAX_MESSAGE_SIZE**) or in the YAML file of **--config**; the command line wins over the environment, which wins over the file.

# OPTIONS
{{ range $v := .GlobalArgs }}
{{ $v }}{{ end }}
# EXAMPLES

` + "```" + `
{{ .App.UsageText }}
` + "```" + `

# SIGNALS

**SIGTERM**, **SIGINT**: close every connection with 1001 (going away), stop every program as when its client leaves, and exit.

**SIGHUP**: re-read the TLS certificate and key of **--sslcert** and **--sslkey**.

# FILES

_/usr/lib/systemd/system/wsgate.service_, _/usr/lib/systemd/system/wsgate.socket_: systemd units, installed disabled; copy the service to /etc/systemd/system to set your program.

# SEE ALSO

The README.md of wsgate's source for the full message contract, the close codes and the environment a program gets.
`

// printManPage writes wsgate.1. It runs after app.Setup, so --help and
// --version are listed too. It swaps urfave/cli's page template, a package
// variable, for manTemplate: the process prints the page and exits, so
// nothing else renders with it meanwhile.
func printManPage(app *cli.App) error {
	defer func(saved string) { cli.MarkdownDocTemplate = saved }(cli.MarkdownDocTemplate)
	cli.MarkdownDocTemplate = manTemplate
	page, err := app.ToManWithSection(1)
	if err != nil {
		return fmt.Errorf("--generate-man: %w", err)
	}
	_, err = fmt.Fprint(app.Writer, page)
	return err
}

// printCompletion writes the completion script for shell. The bash and zsh
// scripts hold no flag names: they ask the installed wsgate at every Tab, so
// they stay right across upgrades. fish's is a list urfave/cli generates.
func printCompletion(app *cli.App, shell string) error {
	var script string
	switch shell {
	case "bash":
		script = bashCompletion
	case "zsh":
		script = zshCompletion
	case "fish":
		var err error
		if script, err = app.ToFishCompletion(); err != nil {
			return fmt.Errorf("--generate-completion fish: %w", err)
		}
	default:
		return fmt.Errorf("--generate-completion %q: use bash, zsh or fish", shell)
	}
	_, err := fmt.Fprint(app.Writer, script)
	return err
}

// bashCompletion completes a word that starts with "-" from the flags that
// wsgate itself lists; any other word (the COMMAND, a file argument, a flag's
// value) falls back to bash's file names.
const bashCompletion = `# bash completion for wsgate: the flags come from wsgate itself.
_wsgate_complete() {
	local word=${COMP_WORDS[COMP_CWORD]}
	COMPREPLY=()
	case $word in
	-*) COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" "$word" --generate-bash-completion 2>/dev/null)" -- "$word")) ;;
	esac
}
complete -o bashdefault -o default -F _wsgate_complete wsgate
`

// zshCompletion does the same for zsh: flags from wsgate, else file names.
const zshCompletion = `#compdef wsgate
# zsh completion for wsgate: the flags come from wsgate itself.
local word=${words[CURRENT]}
if [[ $word == -* ]]; then
	local -a wsgate_flags
	wsgate_flags=(${(f)"$(${words[1]} $word --generate-bash-completion 2>/dev/null)"})
	compadd -a wsgate_flags
else
	_files
fi
`
