import { ChatPage } from "@/components/chat_page";

export default function Home() {
  return <ChatPage />;
}
