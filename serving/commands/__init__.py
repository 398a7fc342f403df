"""One module per `medcode` command group; each defines `register(app: typer.Typer)`."""
