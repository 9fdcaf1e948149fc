"""Views: parse the request, call the model or a library, render. No logic of their own."""
