// Planted insecure libcurl settings: tls_check.py must report the lines marked PLANTED only.
#include <curl/curl.h>

void Planted(CURL* c) {
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);  // PLANTED
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0);   // PLANTED
}
