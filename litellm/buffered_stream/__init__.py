"""buffered_stream: serve a non-streaming call from a backend stream.

A non-streaming call sends no byte until generation ends, so every read timeout on the way caps
generation time. With ``buffered_stream`` the backend is asked for a stream, the stream is
assembled as it arrives, and the caller receives one ordinary non-streaming response.
Documentation: docs/buffered-stream.md.

Modules: ``options`` (the switch: its forms and valid values), ``wires`` (the one registry: which
wire and path serve which endpoint and provider), ``decision`` (the one decision whether a call is
buffered, and the warning when a call that asked is served natively), ``completion`` (the wrappers of
``litellm.completion``/``acompletion``), ``endpoints`` (the wrapper of ``/v1/messages``,
``/v1/responses`` and text completions), ``client`` (the HTTP client that streams underneath),
``assembly`` (what every assembler shares), ``assemblers``, ``responses``, ``text_completion`` and
``decoders`` (sans-I/O stream assembly), ``proxy`` (proxy-side policy).
This package imports nothing eagerly: litellm's modules import the pieces they hook.
"""
