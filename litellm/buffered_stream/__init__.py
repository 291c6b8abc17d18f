"""buffered_stream: serve a non-streaming chat completion from a backend stream.

A non-streaming call sends no byte until generation ends, so every read timeout on the way caps
generation time. With ``buffered_stream`` the backend is asked for a stream, the stream is
assembled as it arrives, and the caller receives one ordinary non-streaming response.
"""
