// Open the session at once; the form stays for a browser without JavaScript.
document.getElementById("connect-form").submit();
