"""The Microsoft side: MSAL sign-in, the one Graph client, its retry policy, the streams read and the harvest."""
