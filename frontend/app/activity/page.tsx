import { ActivityPage } from "@/components/activity_page";

export default function Activity() {
  return <ActivityPage />;
}
