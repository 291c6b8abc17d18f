"""buffered_stream: serve a non-streaming call from a backend stream.

A non-streaming call sends no byte until generation ends, so every read timeout on the way caps
generation time. With ``buffered_stream`` the backend is asked for a stream, the stream is
assembled as it arrives, and the caller receives one ordinary non-streaming response.
Documentation: docs/buffered-stream.md.

Modules: ``options`` (the switch and the operator policy), ``completion`` (the wrappers of
``litellm.completion``/``acompletion``), ``endpoints`` (the wrapper of ``/v1/messages``,
``/v1/responses`` and text completions), ``client`` (the HTTP client that streams underneath),
``assemblers``, ``responses``, ``text_completion`` and ``decoders`` (sans-I/O stream assembly),
``proxy`` (proxy-side policy).
This package imports nothing eagerly: litellm's modules import the pieces they hook.
"""
